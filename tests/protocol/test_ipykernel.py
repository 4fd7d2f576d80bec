"""jupyter_kernel_test against ipykernel: proves the protocol harness itself.

If this suite fails, the harness or the machine is broken, not nbforge.
"""

import jupyter_kernel_test as jkt


class IPyKernelTests(jkt.KernelTests):
    kernel_name = "python3"
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('oops', file=sys.stderr)"

    completion_samples = [{"text": "zi", "matches": {"zip"}}]

    complete_code_samples = ["1 + 1", "x: int = 1", "def f(x):\n    return x * 2\n\n\n"]
    incomplete_code_samples = ["def f(x):\n    x * 2", "values = ["]
    invalid_code_samples = ["import = 7q"]

    code_page_something = "zip?"
    code_inspect_sample = "zip"
    code_generate_error = "raise ValueError('boom')"

    code_execute_result = [{"code": "6 * 7", "result": "42"}]
    code_display_data = [
        {"code": "from IPython.display import HTML, display; display(HTML('<b>hi</b>'))", "mime": "text/html"}
    ]

    # A glob over the history: matches "6 * 7" above.
    code_history_pattern = "6 * 7"
    # IPython answers "range" with session 0 (its alias for "this session"),
    # which the check reads as a wrong session number, so range is left out.
    supported_history_operations = ("tail", "search")

    code_clear_output = "from IPython.display import clear_output; clear_output()"
