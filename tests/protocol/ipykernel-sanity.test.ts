// The protocol harness run against ipykernel: if this fails, the harness or
// the machine is broken, not nbforge.
import { describeKernelSuite } from "./harness.js";

describeKernelSuite({
  title: "harness sanity: jupyter_kernel_test against ipykernel",
  suiteFile: "test_ipykernel.py",
  expectedSkips: {
    "test_history (hist_access_type='range')": "IPython reports session 0 for the current session",
  },
});
