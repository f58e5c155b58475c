// The public face of components/: ComponentResources composing the dynamic resources.
export * from "./kmsAccess";
