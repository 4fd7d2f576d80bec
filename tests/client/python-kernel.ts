// Launching Debian's ipykernel, the reference kernel the client is tested against.
import { KernelClient, findKernelSpec, type ClientLaunchOptions } from "nbforge/client";

/** Launch options for ipykernel: the "python3" kernelspec, or ipykernel_launcher directly. */
export function pythonKernelOptions(): ClientLaunchOptions {
  try {
    findKernelSpec("python3");
    return { kernelName: "python3" };
  } catch {
    return { argv: ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"] };
  }
}

export function launchPython(extra: ClientLaunchOptions = {}): Promise<KernelClient> {
  return KernelClient.launch({ ...pythonKernelOptions(), startupTimeoutMs: 30_000, ...extra });
}
