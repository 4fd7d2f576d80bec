// The channel a live plot streams over: a comm with target "nbforge.live" when
// the code runs inside the nbforge kernel, nothing in a plain Node script.
// The display layer must not import the kernel (primitives do not know Jupyter),
// so it finds the kernel's comm manager where the kernel publishes it for cells:
// the `kernel.comm` global. Tests and other hosts can install their own opener.

export type LiveMessage = { [key: string]: unknown };

export interface LiveChannel {
  /** True once either side closed it (a front end without the extension closes it at once). */
  readonly closed?: boolean;
  send(data: LiveMessage): void;
  onMessage(handler: (data: LiveMessage) => void): void;
  close(data?: LiveMessage): void;
}

export type LiveChannelOpener = (target: string, data: LiveMessage) => LiveChannel | undefined;

let opener: LiveChannelOpener | undefined;

/** Replaces how live channels are opened (undefined restores the kernel's comms). */
export function setLiveChannelOpener(next: LiveChannelOpener | undefined): void {
  opener = next;
}

interface KernelCommGlobal {
  kernel?: { comm?: { open?: (target: string, data: LiveMessage) => LiveChannel } };
}

/** Opens a channel to the front end, or returns undefined when there is none. */
export function openLiveChannel(target: string, data: LiveMessage): LiveChannel | undefined {
  if (opener) return opener(target, data);
  const comms = (globalThis as KernelCommGlobal).kernel?.comm;
  if (typeof comms?.open !== "function") return undefined;
  return comms.open(target, data);
}
