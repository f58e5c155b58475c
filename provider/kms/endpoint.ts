// Where a KMS instance's calls go: the endpoint given, else the stack / environment override, else the one
// derived from service, instance and region.
import { EndpointOrigin, ExplicitCloudSettings, KmsService, kmsEndpointFromSettings, resolveCloudEndpoints, validateEndpoint } from "../../client/config";
import { DEFAULT_KMS_SERVICE, KmsInstanceFields } from "./instance";

/** The instance as a resource's inputs give it, its GUID known. */
export type KmsInstanceRef = KmsInstanceFields & { instanceId: string };

/** A KMS instance resolved: where the calls go (and the key ring they are scoped to, if any). */
export interface KmsInstance {
    instanceId: string;
    service: KmsService;
    /** KMS base URL. */
    endpoint: string;
    keyRing?: string;
    /** Where `endpoint` came from (for connection errors); absent for an endpoint read from state. */
    origin?: EndpointOrigin;
}

/** The instance's KMS base URL: `endpoint`, else the stack/env override, else derived from service, instance and region. */
export function kmsEndpointOf(explicit: ExplicitCloudSettings, ref: KmsInstanceRef, endpointField = "endpoint"): string {
    if (ref.endpoint !== undefined && ref.endpoint !== "") return validateEndpoint(endpointField, ref.endpoint);
    return kmsEndpointFromSettings(resolveCloudEndpoints(explicit), {
        service: ref.service ?? DEFAULT_KMS_SERVICE,
        instanceId: ref.instanceId,
        region: ref.region,
    });
}
