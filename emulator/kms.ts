// Key Protect / HPCS keys API (filled in by the KMS step).
import type { Emulator } from "./app";
import { Router } from "./server";

export function registerKmsRoutes(_router: Router, _emu: Emulator): void {}
