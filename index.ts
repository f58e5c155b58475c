// The package's public face: the dynamic resources and clients (provider/), the components, and the
// local IBM Cloud for tests (emulator/, also reachable as its own module).
export * from "./provider";
export * from "./components";
export { startEmulator } from "./emulator";
