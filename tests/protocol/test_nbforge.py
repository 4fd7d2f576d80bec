"""jupyter_kernel_test against nbforge's installed kernelspec "nbforge".

Each sample below is a cell the checks send over the real Jupyter protocol;
the checks themselves come from jupyter_kernel_test, an independent reference.
The jest wrapper (kernel-test.test.ts) installs the kernelspec into a temporary
prefix and points JUPYTER_PATH at it before running this file.
"""

import jupyter_kernel_test as jkt


class NbforgeKernelTests(jkt.KernelTests):
    kernel_name = "nbforge"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("oops")'

    # matches are compared as a set, so each prefix must be unambiguous.
    completion_samples = [
        {"text": "const s = 'x'; s.toUpperC", "matches": {"toUpperCase"}},
        {"text": "Math.hypo", "matches": {"hypot"}},
    ]

    complete_code_samples = [
        "1 + 1",
        "const x = 1;",
        "function twice(n: number): number {\n  return 2 * n;\n}",
    ]
    incomplete_code_samples = [
        "function f() {",
        "const a = [",
        "interface Point {\n  x: number;",
    ]
    # Syntax errors before the end of the cell: more typing cannot fix them.
    invalid_code_samples = ["1 +* 2", ")"]

    code_inspect_sample = "Math.max"
    code_generate_error = "throw new Error('boom')"

    # Cells here are run several times by test_history, so they must not
    # declare anything (a second `const` of one name would be an error).
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "((n: number): number => n * 2)(21)", "result": "42"},
    ]
    code_display_data = [
        {"code": "display.html('<b>hi</b>')", "mime": "text/html"},
        {"code": "display.markdown('**hi**')", "mime": "text/markdown"},
    ]

    # A glob over the kernel's history; matches the first cell above.
    code_history_pattern = "6 * 7"
    supported_history_operations = ("tail", "range", "search")

    code_clear_output = "clearOutput()"

    # code_page_something stays unset: nbforge has no pager payloads, so
    # jupyter_kernel_test skips test_pager (the jest wrapper expects that skip).
