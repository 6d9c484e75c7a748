"""A real IPython kernel driven through jupyter_client, with its iopub traffic recorded."""

from __future__ import annotations

import os
import queue
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager


@dataclass
class Execution:
    """One execute request: its reply and the iopub messages whose parent it is."""

    msg_id: str
    reply: dict[str, Any]
    outputs: list[dict[str, Any]] = field(default_factory=list)

    def html(self) -> str:
        return "".join(
            m["content"].get("data", {}).get("text/html", "") for m in self.outputs
        )

    def stdout(self) -> str:
        return "".join(
            m["content"]["text"] for m in self.outputs
            if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
        )

    def text(self) -> str:
        parts = []
        for m in self.outputs:
            content = m["content"]
            parts.append(content.get("text", ""))
            parts.append(content.get("data", {}).get("text/plain", ""))
            parts.extend(content.get("traceback", []))
        return "".join(parts)


class Kernel:
    """Start, talk to, restart and kill one kernel; every iopub message is kept."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd), env={**os.environ, **env})
        self._connect()
        self.iopub: list[dict[str, Any]] = []

    def _connect(self) -> None:
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def execute(self, code: str, timeout: float = 60) -> Execution:
        """Run ``code`` and return when its reply and its idle status have arrived."""
        msg_id = self.client.execute(code)
        reply = self.client.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.client.get_shell_msg(timeout=timeout)
        execution = Execution(msg_id, reply["content"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._next_iopub(deadline - time.monotonic())
            if msg is None:
                break
            if msg["parent_header"].get("msg_id") == msg_id:
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
                execution.outputs.append(msg)
        return execution

    def _next_iopub(self, timeout: float) -> dict[str, Any] | None:
        try:
            msg: dict[str, Any] = self.client.get_iopub_msg(timeout=max(0.01, timeout))
        except queue.Empty:
            return None
        self.iopub.append(msg)
        return msg

    def drain(self, seconds: float) -> None:
        """Keep recording iopub traffic (background updates) for a while."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._next_iopub(deadline - time.monotonic())

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        """Record iopub traffic until ``predicate(self.iopub)`` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.iopub):
                return True
            self._next_iopub(min(0.5, deadline - time.monotonic()))
        return bool(predicate(self.iopub))

    def updates(self, display_id: str) -> list[dict[str, Any]]:
        return [
            m for m in self.iopub
            if m["msg_type"] == "update_display_data"
            and m["content"].get("transient", {}).get("display_id") == display_id
        ]

    def restart(self) -> None:
        """A graceful restart, as the Restart Kernel menu item does."""
        self.client.stop_channels()
        self.manager.restart_kernel(now=False)
        self._connect()
        self.iopub.clear()

    def kill(self) -> None:
        """SIGKILL the kernel process, then start a new one in its place."""
        self.client.stop_channels()
        self.manager.signal_kernel(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.manager.restart_kernel(now=True)
        self._connect()
        self.iopub.clear()

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def display_ids(execution: Execution) -> list[str]:
    """The display ids of the outputs an execution showed (one per job card)."""
    ids = (
        m["content"].get("transient", {}).get("display_id")
        for m in execution.outputs if m["msg_type"] == "display_data"
    )
    return [i for i in ids if i]
