// What an AccessPolicy holds as plain values: its inputs after check and its state. Here, not in the resource
// file, so that the policy helpers (accessCheck, accessMapping) read them without importing the resource.
// provider/accessPolicy.ts re-exports them: users import them from the package as before.

/** `resource` as plain values (inputs after check, and state). */
export interface AccessPolicyResource {
    serviceName?: string;
    serviceType?: string;
    serviceInstance?: string;
    region?: string;
    resourceType?: string;
    resource?: string;
    resourceGroupId?: string;
    attributes?: { [name: string]: string };
    tags?: { [name: string]: string };
}

/** What state holds for a policy. */
export interface AccessPolicyOutputs {
    /** The policy's id, as `ibmcloud iam service-policies` shows it. */
    policyId: string;
    /** ETag of the policy as last written or read; sent with If-Match on update. */
    etag: string;
    /** The policy's URL in the IAM Policy Management API. */
    href: string;
    /** `active` (a policy left `deleted` by its subject's deletion reads as gone). */
    state: string;
    /** The granted roles' CRNs, in the order of `roles`. */
    roleCrns: string[];
    /** The subject's IAM id (`iam-ServiceId-…`). */
    subjectIamId: string;
    /** The deployer's account (from the token), the policy's `accountId` attribute. */
    accountId: string;
    /** When IAM created the policy (ISO 8601). */
    createdAt: string;
    /** When IAM last changed the policy (ISO 8601). */
    lastModifiedAt: string;
    // the arguments as given
    serviceId?: string;
    iamId?: string;
    roles: string[];
    resource: AccessPolicyResource;
    description?: string;
    adoptExisting?: boolean;
}

/** Inputs after `check`: `roleCrns` is added when every role resolved offline (preview shows what will be granted). */
export interface AccessPolicyInputs {
    serviceId?: string;
    iamId?: string;
    roles: string[];
    resource: AccessPolicyResource;
    description?: string;
    adoptExisting?: boolean;
    roleCrns?: string[];
}
