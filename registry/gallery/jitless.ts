// First of the gallery script's imports: zod compiles object parsers with `new Function` unless told
// not to, and on its first parse probes whether it may. Under the gallery's CSP (no 'unsafe-eval')
// that probe is refused: zod catches the throw, but the browser still reports a CSP violation. The
// page's few parses need no compiling, so the probe never runs.
import { config } from "zod";

config({ jitless: true });
