// jupyter_kernel_test's protocol checks against the installed "nbforge" kernelspec.
import { delimiter } from "node:path";
import { describeKernelSuite, installNbforgeKernelspec } from "./harness.js";

describeKernelSuite({
  title: "nbforge kernel: jupyter_kernel_test",
  suiteFile: "test_nbforge.py",
  prepare: async (scratchDir, env) => {
    const jupyterPath = await installNbforgeKernelspec(scratchDir);
    // Put the fresh kernelspec ahead of any "nbforge" a user installed.
    env.JUPYTER_PATH = [jupyterPath, env.JUPYTER_PATH].filter(Boolean).join(delimiter);
  },
  expectedSkips: {
    test_pager: "nbforge sends no pager payloads",
  },
});
