"""Measures one Jupyter kernel from the outside, with jupyter_client as a
neutral client, and prints the numbers as one JSON object on stdout.

  kernel_rtt.py --argv '["node", "cli.js", "kernel", "--connection-file", "{connection_file}"]' \
                --code 'const x: number = {n}; x' [--expect '{n}'] [--cells 50] [--warmup 5] [--cold-starts 3]

{n} in --code and --expect is replaced by the cell's number, so every cell's
text differs and no kernel can answer from a cache of compiled cells.

cold_start_s:  process spawn to the first kernel_info_reply
first_cell_s:  process spawn to the execute_reply of the first cell
round_trip_s:  for each timed cell, execute_request sent to status idle on iopub
bench/kernel.mjs runs this for every kernel it compares.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from queue import Empty

import zmq
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import write_connection_file

REPLY_TIMEOUT_S = 60.0


class BenchError(RuntimeError):
    pass


class KernelUnderTest:
    """One kernel process plus a client connected to it."""

    def __init__(self, argv, workdir, log_file):
        self.connection_file = os.path.join(workdir, f"kernel-{uuid.uuid4()}.json")
        write_connection_file(self.connection_file, ip="127.0.0.1", key=uuid.uuid4().hex.encode())
        self.argv = [part.replace("{connection_file}", self.connection_file) for part in argv]
        self.log_file = log_file
        self.client = BlockingKernelClient()
        # ZeroMQ retries a refused connect every 100 ms by default; the kernel
        # binds only after it starts, so a shorter interval keeps that retry
        # from padding the cold-start time. (Applies to sockets made later.)
        self.client.context.setsockopt(zmq.RECONNECT_IVL, 5)
        self.client.load_connection_file(self.connection_file)
        self.process = None

    def spawn(self):
        """Starts the kernel and returns the spawn time (perf_counter seconds)."""
        self.client.start_channels(stdin=False, hb=False)
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=self.log_file
        )
        return started

    def wait_for_kernel_info(self):
        """Returns when the first kernel_info_reply arrives, resending while the kernel boots."""
        deadline = time.perf_counter() + REPLY_TIMEOUT_S
        while time.perf_counter() < deadline:
            self.check_alive()
            self.client.kernel_info()
            try:
                while True:
                    reply = self.client.get_shell_msg(timeout=1.0)
                    if reply["msg_type"] == "kernel_info_reply":
                        return time.perf_counter()
            except Empty:
                continue
        raise BenchError(f"no kernel_info_reply within {REPLY_TIMEOUT_S:.0f} s")

    def execute_until_reply(self, code):
        msg_id = self.client.execute(code)
        reply = self.shell_reply_to(msg_id)
        return time.perf_counter(), reply

    def execute_until_idle(self, code):
        """Sends one cell; returns (seconds to idle, execute_reply, the value it showed or None)."""
        sent = time.perf_counter()
        msg_id = self.client.execute(code)
        deadline = sent + REPLY_TIMEOUT_S
        result = None
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise BenchError(f"no idle status within {REPLY_TIMEOUT_S:.0f} s for {code!r}")
            try:
                message = self.client.get_iopub_msg(timeout=remaining)
            except Empty:
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "execute_result":
                result = message["content"]["data"].get("text/plain")
            elif message["msg_type"] == "stream" and message["content"]["name"] == "stdout" and result is None:
                # tslab shows a cell's last value on stdout rather than as an execute_result.
                result = message["content"]["text"].strip()
            elif message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                elapsed = time.perf_counter() - sent
                return elapsed, self.shell_reply_to(msg_id), result

    def shell_reply_to(self, msg_id):
        while True:
            reply = self.client.get_shell_msg(timeout=REPLY_TIMEOUT_S)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply

    def check_alive(self):
        if self.process is not None and self.process.poll() is not None:
            raise BenchError(f"the kernel exited with status {self.process.returncode}")

    def close(self):
        try:
            if self.process is not None and self.process.poll() is None:
                self.client.shutdown()
                self.process.wait(timeout=5)
        except (subprocess.TimeoutExpired, Exception):
            pass
        finally:
            if self.process is not None and self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.client.stop_channels()
            self.client.context.destroy(linger=0)


def numbered(template, number):
    return template.replace("{n}", str(number))


def require_ok(reply, code):
    content = reply["content"]
    if content.get("status") != "ok":
        detail = content.get("evalue") or content.get("ename") or content
        raise BenchError(f"the cell {code!r} failed in the kernel: {detail}")


def measure_cold_start(argv, code, workdir, log_file):
    kernel = KernelUnderTest(argv, workdir, log_file)
    try:
        spawned = kernel.spawn()
        info_at = kernel.wait_for_kernel_info()
        first_cell = numbered(code, 0)
        first_cell_at, reply = kernel.execute_until_reply(first_cell)
        require_ok(reply, first_cell)
        return info_at - spawned, first_cell_at - spawned
    finally:
        kernel.close()


def measure_round_trips(argv, code, expected, cells, warmup, workdir, log_file):
    kernel = KernelUnderTest(argv, workdir, log_file)
    try:
        kernel.spawn()
        kernel.wait_for_kernel_info()
        round_trips = []
        for index in range(warmup + cells):
            cell = numbered(code, index + 1)
            elapsed, reply, result = kernel.execute_until_idle(cell)
            require_ok(reply, cell)
            # A kernel that skipped the work would look fast; check it computed the answer.
            if expected is not None and result != numbered(expected, index + 1):
                raise BenchError(f"the cell {cell!r} gave {result!r}, expected {numbered(expected, index + 1)!r}")
            if index >= warmup:
                round_trips.append(elapsed)
        return round_trips
    finally:
        kernel.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--argv", required=True, help="kernel command as a JSON array, with {connection_file}")
    parser.add_argument("--code", required=True, help="the trivial cell to time; {n} becomes its number")
    parser.add_argument("--expect", help="the value each timed cell must show; {n} becomes its number")
    parser.add_argument("--cells", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--cold-starts", type=int, default=3)
    args = parser.parse_args()
    argv = json.loads(args.argv)

    with tempfile.TemporaryDirectory(prefix="nbforge-bench-") as workdir:
        log_path = os.path.join(workdir, "kernel.log")
        with open(log_path, "wb") as log_file:
            try:
                starts = [measure_cold_start(argv, args.code, workdir, log_file) for _ in range(args.cold_starts)]
                round_trips = measure_round_trips(argv, args.code, args.expect, args.cells, args.warmup, workdir, log_file)
            except (BenchError, Empty) as error:
                log_file.flush()
                with open(log_path, "rb") as log:
                    kernel_output = log.read()[-3000:].decode(errors="replace")
                print(json.dumps({"error": str(error) or type(error).__name__, "kernel_output": kernel_output}))
                return 1

    print(
        json.dumps(
            {
                "cold_start_s": [cold for cold, _ in starts],
                "first_cell_s": [first for _, first in starts],
                "round_trip_s": round_trips,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
