// Wires a kernel connection to the live-run store. Three ways in, so that a
// page that (re)connects mid-run loses nothing:
// - comms that the kernel opens with target "nbforge.live" (a run starting);
// - comms already open when the page connects: found with comm_info, attached
//   to, and asked for their full state ("sync"; the kernel answers when idle);
// - iopub traffic this connection does not own: append messages of comms opened
//   before the page connected, and the full state that the throttled
//   update_display_data of every live display carries.
import type { Kernel, KernelMessage } from "@jupyterlab/services";
import type { LiveRegistry } from "./live.js";
import { LIVE_COMM_TARGET, METRICS_MIME, type MetricsData } from "./types.js";

type Data = { [key: string]: unknown };

function isLiveMessage(data: Data): boolean {
  return typeof data.id === "string" && (data.type === "append" || data.type === "status" || data.type === "state");
}

export function connectLiveComms(kernel: Kernel.IKernelConnection, notebook: string, registry: LiveRegistry): void {
  const follow = (comm: Kernel.IComm) => {
    comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => registry.handle(msg.content.data, notebook);
  };
  kernel.registerCommTarget(LIVE_COMM_TARGET, (comm, msg) => {
    registry.handle(msg.content.data, notebook);
    follow(comm);
  });
  kernel.iopubMessage.connect((_, msg) => {
    const type = msg.header.msg_type;
    if (type === "comm_msg") {
      const content = msg.content as KernelMessage.ICommMsgMsg["content"];
      if (!kernel.hasComm(content.comm_id) && isLiveMessage(content.data)) registry.handle(content.data, notebook);
    } else if (type === "display_data" || type === "update_display_data" || type === "execute_result") {
      const data = (msg.content as { data?: Data }).data?.[METRICS_MIME] as MetricsData | undefined;
      if (data?.live?.id) registry.handle({ type: "state", id: data.live.id, data }, notebook);
    }
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
      // A kernel without comm_info support: the iopub traffic above still brings runs in.
    });
}
