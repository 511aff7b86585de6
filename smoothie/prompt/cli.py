"""``python -m smoothie rewrite``: paraphrase ensembles from the command line.

Contract (the benchmark scorers depend on it)::

    python -m smoothie rewrite [--n 32] [--backend rules] [--seed S] [--json] PROMPT
    python -m smoothie rewrite --jsonl FILE [...]      # one {"prompt": …} a line in, one object a line out

With ``--json``/``--jsonl`` each result is ``{"prompt", "generic", "names": [{"text","label","replacement"}],
"paraphrases": [...]}``. Bad input (empty prompt, unbalanced or too deeply nested brackets, n < 1, an LLM
option the backend refuses such as ``--timeout -1`` or a ``file://`` base URL, a names file whose replacement
has WebUI syntax) exits 2 with one line naming it; in ``--jsonl`` mode the message names the line. A JSONL
file is UTF-8 (a byte-order mark is skipped), one JSON object a line: only ``\n`` ends a line, so a U+2028
inside a JSON string is text.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rewrite",
        help="rewrite a prompt into an ensemble of noun-free paraphrases",
        description="Rewrite a WebUI prompt into N paraphrases with proper nouns replaced by generic descriptions.",
    )
    p.add_argument("prompt", nargs="?", help="the prompt (quote it); omit with --jsonl")
    p.add_argument("--n", type=int, default=32, help="ensemble size (default 32)")
    p.add_argument(
        "--backend",
        default="rules",
        help="paraphrase backend: rules (default, offline), auto (a local LLM server or --model, else rules), "
        "openai, transformers",
    )
    p.add_argument("--seed", type=int, default=0, help="seed: the same seed gives the same ensemble (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument(
        "--jsonl", metavar="FILE", help='read {"prompt": …} lines from FILE ("-" for stdin); print JSON lines'
    )
    p.add_argument("--keep", action="append", default=[], metavar="NAME", help="a name never to replace (repeatable)")
    p.add_argument("--names-file", metavar="FILE", help="extra names, one a line: name | label | replacement")
    p.add_argument("--scrub-places", action="store_true", help="replace place names too (kept by default)")
    p.add_argument(
        "--tag-database",
        metavar="FILE",
        help="danbooru's tag database (tagcomplete's tags/danbooru.csv: tag,category,count,aliases) to tell "
        "character, copyright and artist tags from general ones; default: the tagcomplete extension's, "
        "when it is installed next to this one",
    )
    llm = p.add_argument_group("LLM backends (auto, openai, transformers)")
    llm.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (Ollama)")
    llm.add_argument(
        "--model",
        help="the server's model name (openai), or a GGUF file, model folder or Hugging Face id (transformers; "
        "auto: a file or folder that exists is a local model)",
    )
    llm.add_argument("--timeout", type=float, help="seconds before falling back to the rules backend")
    llm.add_argument("--rounds", type=int, help="recursive smoothing rounds (default 1)")
    llm.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the API key")
    llm.add_argument("--device", help="transformers device: auto (default), cpu, cuda")
    llm.add_argument("--threads", type=int, help="transformers: CPU threads for torch (1 is fastest on a busy machine)")
    llm.add_argument("--cache-dir", metavar="DIR", help="keep LLM results on disk here (also SMOOTHIE_LLM_CACHE_DIR)")
    p.set_defaults(func=run)


def _backend_options(args: argparse.Namespace) -> dict[str, Any]:
    """The LLM options the user gave, checked against what the chosen backend accepts."""
    from smoothie.cli import UsageError
    from smoothie.prompt.backends import backend_parameters

    accepted = backend_parameters(args.backend)
    opts: dict[str, Any] = {}
    for key in ("base_url", "model", "timeout", "rounds", "device", "threads", "cache_dir"):
        value = getattr(args, key, None)
        if value is None:
            continue
        if key == "model" and args.backend == "auto" and (Path(value).expanduser().exists() or value.endswith(".gguf")):
            opts["local_model"] = value  # auto: a file or folder is a local model, anything else a server's name
            continue
        if accepted is not None and key not in accepted:
            flag = "--" + key.replace("_", "-")
            raise UsageError(f"{flag} is not an option of the {args.backend!r} backend")
        opts[key] = value
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if api_key is None:
            from smoothie.cli import UsageError

            raise UsageError(f"--api-key-env {args.api_key_env}: that environment variable is not set")
        if accepted is not None and "api_key" not in accepted:
            raise UsageError(f"--api-key-env is not an option of the {args.backend!r} backend")
        opts["api_key"] = api_key
    return opts


def run(args: argparse.Namespace) -> int:
    from smoothie.prompt.backends import release_backends

    try:
        return _run(args)
    finally:
        release_backends()  # an LLM backend frees its model before the process ends


def _run(args: argparse.Namespace) -> int:
    from smoothie.cli import UsageError
    from smoothie.prompt import MAX_ENSEMBLE, load_user_names, parse_prompt, rewrite
    from smoothie.prompt.backends import available_backends

    if args.n < 1 or args.n > MAX_ENSEMBLE:
        raise UsageError(f"--n must be between 1 and {MAX_ENSEMBLE}, got {args.n}")
    if args.backend not in available_backends():
        raise UsageError(f"--backend {args.backend!r} is not one of: {', '.join(available_backends())}")
    if (args.prompt is None) == (args.jsonl is None):
        raise UsageError("give either a PROMPT or --jsonl FILE (not both, not neither)")
    extra = []
    if args.names_file:
        try:
            extra = load_user_names(args.names_file)
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"--names-file {args.names_file}: not UTF-8 text (byte {exc.start}: {exc.reason})"
            ) from exc
        except ValueError as exc:  # the message names the file and line
            raise UsageError(f"--names-file {exc}") from exc
        except OSError as exc:
            raise UsageError(f"--names-file {args.names_file}: cannot read: {exc}") from exc
    options = _backend_options(args)
    _check_backend(args.backend, options)
    tag_database = getattr(args, "tag_database", None)
    if tag_database is not None:
        from smoothie.prompt.tables import load_tag_database

        try:
            load_tag_database(tag_database)  # read (and cached) once, before any prompt
        except ValueError as exc:
            raise UsageError(f"--tag-database: {exc}") from exc

    def one(prompt: str) -> Any:
        return rewrite(
            prompt, n=args.n, backend=args.backend, seed=args.seed, keep=args.keep,
            backend_options=options, extra_names=extra, scrub_places=args.scrub_places,
            tag_database=tag_database,
        )  # fmt: skip

    if args.jsonl is None:
        _check_text(args.prompt, "the prompt")
        try:
            result = one(args.prompt)
        except ValueError as exc:
            raise UsageError(f"prompt {_clip(args.prompt)!r}: {exc}") from exc
        for w in result.warnings:
            print(f"smoothie: warning: {w}", file=sys.stderr)
        if args.json:
            print(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            _print_text(result)
        return 0

    prompts = _read_jsonl(args.jsonl)
    for lineno, prompt in prompts:  # cheap checks first: a bad line fails before any model loads
        _check_text(prompt, f"{args.jsonl}:{lineno}: the prompt")
        try:
            if not prompt.strip():
                raise ValueError("prompt is empty: nothing to rewrite")
            parse_prompt(prompt)
        except ValueError as exc:
            raise UsageError(f"{args.jsonl}:{lineno}: prompt {_clip(prompt)!r}: {exc}") from exc
    results = []
    for lineno, prompt in prompts:  # validate everything before printing anything: all or nothing
        try:
            results.append(one(prompt))
        except ValueError as exc:
            raise UsageError(f"{args.jsonl}:{lineno}: prompt {_clip(prompt)!r}: {exc}") from exc
    for result in results:
        for w in result.warnings:
            print(f"smoothie: warning: {w}", file=sys.stderr)
        print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


def _read_jsonl(path: str) -> list[tuple[int, str]]:
    from smoothie.cli import UsageError

    try:
        if path == "-":
            buffer = getattr(sys.stdin, "buffer", None)
            data: bytes | str = buffer.read() if buffer is not None else sys.stdin.read()
        else:
            data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"--jsonl {path}: cannot read: {exc}") from exc
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise UsageError(f"--jsonl {path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from exc
    out = []
    # Only "\n" ends a JSON line: str.splitlines() would also split at U+2028, U+0085, \x1c… inside strings.
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r")
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{lineno}: not JSON: {exc}") from exc
        except RecursionError:
            raise UsageError(f"{path}:{lineno}: not JSON this reader accepts: nested too deeply") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("prompt"), str):
            raise UsageError(f'{path}:{lineno}: expected an object with a "prompt" string, got {_clip(line.strip())!r}')
        out.append((lineno, obj["prompt"]))
    return out


def _check_text(text: str, what: str) -> None:
    """Refuse text that cannot be printed back: lone surrogates from undecodable command-line bytes or from
    ``\\ud800`` escapes in JSON."""
    from smoothie.cli import UsageError

    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{what} is not valid Unicode text (at character {exc.start + 1})") from None


def _check_backend(name: str, options: dict[str, Any]) -> None:
    """Build the backend now, so that an option it refuses (``--timeout -1``, ``nan``, ``--rounds -1``, a
    ``file://`` base URL) is bad input, exit 2, rather than a warning and the rules backend. Building loads no
    model and opens no connection; a backend that cannot be built for another reason (a missing package) is
    left to the engine, which falls back to the rules backend with a warning."""
    from smoothie.cli import UsageError
    from smoothie.prompt.backends import get_backend

    if name == "rules" and not options:
        return
    try:
        get_backend(name, **options)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--backend {name}: {exc}") from None
    except Exception:  # reported by the engine's fallback warning
        return


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _print_text(result: Any) -> None:
    print(f"prompt:  {result.prompt}")
    print(f"generic: {result.generic}")
    for name in result.names:
        shown = name.replacement if name.replacement else "(removed)"
        print(f"  {name.label:<9} {name.text!r} -> {shown!r}")
    for i, para in enumerate(result.paraphrases, 1):
        print(f"{i:>3}. {para}")
