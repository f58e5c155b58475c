// The fixed inputs of a state-fixture run: one run differs from another only in ids, timestamps, keys and
// the emulator's port. Test values, not secrets: they give access to nothing but an emulator started on
// the fixture's state.
import * as path from "path";
import { REPO_ROOT } from "../lib/repoRoot";

export const PROJECT = "state-fixture";
export const STACK = "fixture";
export const PASSPHRASE = "state-fixture-test-passphrase";
export const OWNER_API_KEY = "state-fixture-owner-key-emulator-only-not-a-secret";
export const ACCOUNT_ID = "57a7ef1c000040008000000000000a11";
export const INSTANCE_GUID = "9e1f0a7e-0000-4000-8000-00000000f1c8";
export const REGION = "us-south";
export const INSTANCE_CRN = `crn:v1:bluemix:public:kms:${REGION}:a/${ACCOUNT_ID}:${INSTANCE_GUID}::`;
/** A Cloud Object Storage instance (the emulator does not model COS: the GUID is only an attribute of the authorization). */
export const COS_INSTANCE_GUID = "c05c05c0-0000-4000-8000-00000000f1c8";
/** A Kubernetes cluster in the fixture's account (the emulator does not model clusters: a trusted-profile link names it by CRN). */
export const CLUSTER_CRN = `crn:v1:bluemix:public:containers-kubernetes:${REGION}:a/${ACCOUNT_ID}:c1f1c8000000fixture00::`;

/** The program's folder (Pulumi.yaml, index.ts), copied as it is into the temp project and into the fixture's program/. */
export const PROGRAM_DIR = path.join(REPO_ROOT, "scripts", "state-fixture", "program");

/** The program's own config (`pulumi config set <key> <value>`, project namespace), besides the provider's endpoints and key. */
export const PROGRAM_CONFIG: Readonly<Record<string, string>> = {
    instanceCrn: INSTANCE_CRN,
    instanceId: INSTANCE_GUID,
    region: REGION,
    cosInstanceId: COS_INSTANCE_GUID,
    clusterCrn: CLUSTER_CRN,
};
