// The page's one store of live runs, shared by the mime renderers and the
// Training runs panel (both entry points of the extension import this module).
import { LiveRegistry } from "./live.js";

export const liveRegistry = new LiveRegistry();
