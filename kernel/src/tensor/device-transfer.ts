// Moving a tensor between devices, declared once as an op: its kernel copies to
// the target device (the same function serves inputs on either device), and its
// gradient moves the incoming gradient back to the input's device.
import { checkDevice, requireCuda, type Device } from "./device.js";
import { defineOp } from "./ops/registry.js";
import { moveRaw, type Tensor } from "./tensor.js";

const move = ([x]: readonly Tensor[], { device }: { device: Device }): Tensor =>
  x.device === device ? x.view_(x.shape, x.strides, x.offset) : moveRaw(x, device);

const toDeviceOp = defineOp<{ device: Device }>({
  name: "to_device",
  infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }),
  kernels: { cpu: move, cuda: move },
  backward: (g, { inputs: [x] }) => [g.device === x.device ? g : moveRaw(g, x.device)],
  savesOutput: false,
});

/** x on `device` ("cpu", "cuda" or "cuda:0"): a view when it is already there, else a copy that gradients flow back through. */
export function toDevice(x: Tensor, device: Device | "cuda:0"): Tensor {
  const d = checkDevice(device, "to");
  if (d === "cuda" && x.device !== "cuda") requireCuda(`to("cuda") of a ${x.dtype} tensor [${x.shape.join(",")}]`);
  return toDeviceOp([x], { device: d });
}
