// Wires a kernel connection to the live-run store: handles the comms that
// kernels open with target "nbforge.live", and, when a page connects to a
// kernel whose runs are already streaming (a reload), attaches to those comms
// and asks each for its full state.
import type { Kernel, KernelMessage } from "@jupyterlab/services";
import type { LiveRegistry } from "./live.js";
import { LIVE_COMM_TARGET } from "./types.js";

export function connectLiveComms(kernel: Kernel.IKernelConnection, notebook: string, registry: LiveRegistry): void {
  const follow = (comm: Kernel.IComm) => {
    comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => registry.handle(msg.content.data, notebook);
  };
  kernel.registerCommTarget(LIVE_COMM_TARGET, (comm, msg) => {
    registry.handle(msg.content.data, notebook);
    follow(comm);
  });
  void kernel
    .requestCommInfo({ target_name: LIVE_COMM_TARGET })
    .then((reply) => {
      if (reply.content.status !== "ok") return;
      for (const id of Object.keys(reply.content.comms)) {
        if (kernel.hasComm(id)) continue;
        const comm = kernel.createComm(LIVE_COMM_TARGET, id);
        follow(comm);
        comm.send({ type: "sync" });
      }
    })
    .catch(() => {
      // A kernel without comm_info support streams new runs only.
    });
}
