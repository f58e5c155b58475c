// Policy Management v1 and roles v2 (filled in by the policies step).
import type { Emulator } from "./app";
import { Router } from "./server";

export function registerPolicyRoutes(_router: Router, _emu: Emulator): void {}
