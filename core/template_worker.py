"""The child process :mod:`core.template_runner` renders templates in, under hard limits.

Started as ``python -m core.template_worker --seconds S --memory-mib M``. It caps its own
address space (``RLIMIT_AS``) and lowers its priority before it reads anything, so a template
cannot take more than its share of memory or starve the process that serves the API. It speaks
JSON, one object a line, on stdin and stdout:

- it says ``{"ready": true}`` once it can take work;
- a request is ``{"parts": {"subject": "...", ...}, "context": TemplateContext.to_data()}``;
- for each part it says ``{"start": part}``, then ``{"rendered": part, "text": "..."}``, and
  ``{"done": true}`` after the last one;
- a part that fails ends the request with ``{"refused": {"part", "message"}}`` (a bound or the
  sandbox) or ``{"invalid": {"detail", "problems": [[field, message], ...]}}``. After running out
  of memory it says so with ``"retire": true`` and exits: a fresh process replaces it.

It exits when stdin closes, so it never outlives the process that started it by more than the
render in hand, which ``RLIMIT_CPU`` ends as a backstop to the parent's wall clock.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import sys
from collections import OrderedDict
from typing import IO, Any

from jinja2 import Template

from core.errors import InvalidInput
from core.templating import TemplateContext, TemplateRefused, compile_part, render_part

# A parent seeing this code knows the child ran out of memory where it could not say so.
EXIT_OUT_OF_MEMORY = 3
# Lower than the API and the actors, which keep answering while a template burns its budget.
NICENESS = 10
# Compiled parts kept per worker: a campaign renders one template for every recipient.
COMPILED_CACHE_SIZE = 32


def memory_message(memory_mib: int) -> str:
    return f"uses more than {memory_mib} MiB of memory"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.template_worker")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--memory-mib", type=int, required=True)
    options = parser.parse_args(argv)
    # Replies go to a private copy of stdout; anything else that prints lands on stderr and
    # cannot corrupt the protocol.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="ascii", newline="\n")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    memory = options.memory_mib * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    os.nice(NICENESS)
    try:
        return _serve(sys.stdin.buffer, replies, options.seconds, options.memory_mib)
    except BrokenPipeError:
        return 0  # the parent is gone; nobody is left to answer


def _serve(requests: IO[bytes], replies: IO[str], seconds: float, memory_mib: int) -> int:
    compiled: OrderedDict[tuple[str, str], Template] = OrderedDict()
    _reply(replies, {"ready": True})
    for line in iter(requests.readline, b""):
        _allow_cpu(seconds)
        part = ""
        try:
            request = json.loads(line)
            variables = TemplateContext.from_data(request["context"]).variables()
            for part, source in request["parts"].items():
                _reply(replies, {"start": part})
                template = _compiled(compiled, part, source)
                _reply(replies, {"rendered": part, "text": render_part(part, template, variables)})
            _reply(replies, {"done": True})
        except TemplateRefused as exc:
            _reply(replies, {"refused": {"part": exc.part, "message": exc.message}})
        except InvalidInput as exc:
            problems = [[p.field, p.message] for p in exc.problems]
            _reply(replies, {"invalid": {"detail": exc.detail, "problems": problems}})
        except MemoryError:
            # The failed allocation is gone, but the heap may be fragmented past use: say what
            # happened and make way for a fresh process.
            compiled.clear()
            refusal = {"part": part, "message": memory_message(memory_mib)}
            with contextlib.suppress(MemoryError):
                _reply(replies, {"refused": refusal, "retire": True})
            return EXIT_OUT_OF_MEMORY
    return 0


def _compiled(cache: OrderedDict[tuple[str, str], Template], part: str, source: str) -> Template:
    key = (part, source)
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    # Compiling runs the template's constant expressions, so it is inside the same limits.
    template = cache[key] = compile_part(part, source)
    if len(cache) > COMPILED_CACHE_SIZE:
        cache.popitem(last=False)
    return template


def _allow_cpu(seconds: float) -> None:
    """Let this render use the time bound's worth of CPU on top of what the process has used
    (the limit counts the whole life of the process); past it the kernel ends the process,
    even when no parent is left to do so."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + math.ceil(seconds) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _reply(replies: IO[str], message: dict[str, Any]) -> None:
    # ASCII escapes keep lone surrogates a template may produce from breaking the encoding.
    replies.write(json.dumps(message, ensure_ascii=True) + "\n")
    replies.flush()


if __name__ == "__main__":
    sys.exit(main())
