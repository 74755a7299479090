#!/usr/bin/env python3
"""Time whole-process `digest build` against Hugo on the same generated articles.

Usage: python benchmarks/run.py [--sizes 1000,5000,10000] [--runs 5] [--jobs N] [--work DIR]
                                [--plain] [--bare]

For each size the sites are generated once (cached in the work folder), then every run
times Hugo and a cold digest build back to back, alternating which goes first, so both
see the same machine state; digest's no-change and one-changed-sidecar rebuilds follow
its cold build. With `--bare`, each run also times the bare Python pipeline
(`bare.py`) on the Hugo twin. Medians go to stdout and to benchmarks/results-<date>.md.
Set-up: see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import hashlib
import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# run.py sits beside generate.py; importing it (rather than shelling out) lets the cache
# stamp include the generator's own hash and reuses its YAML dumper for the sidecar edit.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True  # no __pycache__ left in the repository's benchmarks/
import generate  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
TIME_BIN = Path("/usr/bin/time")
SETUP_COMMAND = "apt-get update && apt-get install -y hugo time"
EDIT_MARKER = "benchmarkedit"  # a word no corpus article contains, to find it in the output
STDERR_TAIL_LINES = 40


@dataclass(frozen=True, slots=True)
class Measurement:
    """One whole-process run: wall seconds, peak RSS and how it ended."""

    seconds: float
    rss_mib: float
    returncode: int
    stderr: str
    cpu_seconds: float = 0.0  # user + system: less sensitive than wall time to other load

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass(slots=True)
class SizeResult:
    """Every measurement for one N, plus what went wrong, if anything."""

    n: int
    generation_seconds: float | None = None
    hugo: list[Measurement] = field(default_factory=list)
    cold: list[Measurement] = field(default_factory=list)
    nochange: list[Measurement] = field(default_factory=list)
    sidecar: list[Measurement] = field(default_factory=list)
    bare: list[Measurement] = field(default_factory=list)  # --bare
    hugo_pages: int = 0
    bare_pages: int = 0
    digest_pages: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    digest_skipped: bool = False  # --hugo-only


# ---------------------------------------------------------------------------------------
# Measuring


def measure(cmd: Sequence[str], *, cwd: Path, env: dict[str, str], timeout: float) -> Measurement:
    """Run cmd under /usr/bin/time -v; wall time from perf_counter, peak RSS from time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as report:
        report_path = Path(report.name)
    try:
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                [str(TIME_BIN), "-v", "-o", str(report_path), *cmd],
                cwd=cwd,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
            return Measurement(timeout, 0.0, -1, f"timed out after {timeout:.0f} s\n{stderr}")
        seconds = time.perf_counter() - started
        timing = report_path.read_text(errors="replace")
    finally:
        report_path.unlink(missing_ok=True)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing)
    rss_mib = int(match.group(1)) / 1024 if match else 0.0
    cpu = sum(
        float(m.group(1))
        for m in re.finditer(r"(?:User|System) time \(seconds\): ([\d.]+)", timing)
    )
    return Measurement(seconds, rss_mib, proc.returncode, proc.stderr, cpu)


def remove(path: Path) -> None:
    """Delete a file or folder if it is there (cold builds start from nothing)."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def count_html(folder: Path) -> int:
    """HTML files in a built site: a rough check that both tools built the same shape."""
    return sum(1 for _ in folder.rglob("*.html")) if folder.is_dir() else 0


def tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    """The last lines of a stream: where Python tracebacks and click errors end up."""
    return "\n".join(text.strip().splitlines()[-lines:])


# ---------------------------------------------------------------------------------------
# Set-up


def require_tools() -> str:
    """Return hugo's version line; exit 2 naming the set-up command if a tool is missing."""
    missing = [
        name
        for name, ok in (
            ("hugo", shutil.which("hugo")),
            ("/usr/bin/time", TIME_BIN.is_file() and os.access(TIME_BIN, os.X_OK)),
        )
        if not ok
    ]
    if missing:
        print(
            f"error: {' and '.join(missing)} not found. Set up with:\n  {SETUP_COMMAND}\n"
            "(see benchmarks/README.md)",
            file=sys.stderr,
        )
        sys.exit(2)  # a set-up problem, like a usage error: not a failed measurement
    out = subprocess.run(
        ["hugo", "version"], capture_output=True, text=True, check=False, timeout=60
    )
    return out.stdout.strip() or out.stderr.strip()


def with_bytecode_cache(env: dict[str, str]) -> dict[str, str]:
    """`env` with Python's bytecode cache on, as an installed package has it.

    pip compiles a package's modules when it installs it, but an editable install (or a
    checkout run in place) compiles them on first import and keeps the result only when
    writing bytecode is allowed; some sandboxes set PYTHONDONTWRITEBYTECODE, which made
    every benchmarked process compile digest's ~50 modules again (0.1 s each time, a
    tenth of a one-sidecar build at 1,000 articles). The modules are compiled here once,
    before anything is timed."""
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    spec = importlib.util.find_spec("digest")
    folders = (list(spec.submodule_search_locations or []) if spec is not None
               else [str(REPO_ROOT / "digest")])
    for folder in folders:
        compileall.compile_dir(folder, quiet=1)
    return env


def digest_command(override: str | None) -> tuple[list[str], dict[str, str], str]:
    """The digest command, its environment and a note on where it came from.

    The installed console script is what users run; without it (package not installed
    yet) run the CLI from this checkout so the benchmark still works in a fresh clone.
    """
    env = with_bytecode_cache(dict(os.environ))
    if override:
        return shlex.split(override), env, f"--digest-cmd {override!r}"
    # Prefer the console script beside this interpreter: a version-manager shim found
    # first on PATH (pyenv's is a bash script) would add its own start-up to every build.
    beside = Path(sys.executable).parent / "digest"
    exe = str(beside) if beside.is_file() else shutil.which("digest")
    if exe:
        return [exe], env, exe
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    code = "from digest.cli import run; run()"
    origin = f"{sys.executable} -c <digest.cli.run> (not installed)"
    return [sys.executable, "-c", code], env, origin


def generator_fingerprint() -> str:
    """Hash of generate.py, so a changed generator invalidates cached sites."""
    return hashlib.sha256((BENCH_DIR / "generate.py").read_bytes()).hexdigest()[:16]


def prepare_sites(
    n: int, work: Path, seed: int, corpus: Path | None, hugo_version: str, plain: bool = False
) -> tuple[Path, Path, float | None]:
    """Generate (or reuse) the digest and Hugo sites for n; return their folders."""
    root = work / (f"n{n}-seed{seed}" + ("-plain" if plain else ""))
    digest_dir, hugo_dir = root / "digest", root / "hugo"
    stamp_path = root / "generated.json"
    stamp = {
        "n": n,
        "seed": seed,
        "plain": plain,
        "generator": generator_fingerprint(),
        "corpus": str(generate.find_corpus(corpus)),
        "hugo": hugo_version,
    }
    if stamp_path.is_file() and json.loads(stamp_path.read_text()) == stamp:
        log(f"N={n}: reusing sites in {root}")
        return digest_dir, hugo_dir, None
    log(f"N={n}: generating sites in {root}")
    remove(root)
    root.mkdir(parents=True)
    report = generate.generate(
        n, digest_dir, seed=seed, corpus_dir=corpus, hugo_dir=hugo_dir, force=True, plain=plain
    )
    stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")
    log(f"N={n}: generated {report.words} words in {report.seconds:.2f} s")
    return digest_dir, hugo_dir, report.seconds


def log(message: str) -> None:
    """Progress on stderr, so stdout carries only the results table."""
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# One size


def edit_one_sidecar(sidecar: Path) -> bytes:
    """Append a word to the sidecar's summary; return the original bytes to restore."""
    original = sidecar.read_bytes()
    data = yaml.safe_load(original)
    data["summary"] = f"{data['summary']} {EDIT_MARKER}"
    sidecar.write_text(generate.dump_yaml(data), encoding="utf-8")
    return original


def bare_jobs(args: argparse.Namespace) -> int:
    """The bare pipeline's processes: as many as digest uses by default, or `--jobs`."""
    return args.jobs or len(os.sched_getaffinity(0))


def bench_size(n: int, args: argparse.Namespace, hugo_version: str) -> SizeResult:
    """Run the paired measurements for one site size."""
    result = SizeResult(n, digest_skipped=args.hugo_only)
    digest_dir, hugo_dir, result.generation_seconds = prepare_sites(
        n, args.work, args.seed, args.corpus, hugo_version, args.plain
    )
    out_root = (args.out_root or args.work) / digest_dir.parent.name
    out_root.mkdir(parents=True, exist_ok=True)
    hugo_out, digest_out = out_root / "out-hugo", out_root / "out-digest"
    bare_out = out_root / "out-bare"
    cmd, env, _ = digest_command(args.digest_cmd)
    build = [*cmd, "build", "--output", str(digest_out)]
    if args.jobs:
        build += ["--jobs", str(args.jobs)]
    hugo_cmd = ["hugo", "--quiet", "-s", str(hugo_dir), "-d", str(hugo_out)]
    bare_cmd = [sys.executable, str(BENCH_DIR / "bare.py"), str(hugo_dir), str(bare_out),
                "--jobs", str(bare_jobs(args))]
    # The middle article: neither first nor last in any sorted listing.
    stems = sorted(p.stem for p in (digest_dir / "content" / "articles").glob("*.yaml"))
    edited = digest_dir / "content" / "articles" / f"{stems[len(stems) // 2]}.yaml"
    digest_broken = False

    def run_hugo(i: int) -> None:
        remove(hugo_out)
        m = measure(hugo_cmd, cwd=hugo_dir, env=dict(os.environ), timeout=args.timeout)
        log(
            f"N={n} run {i}: hugo {m.seconds:.2f} s (CPU {m.cpu_seconds:.2f} s) "
            f"{m.rss_mib:.0f} MiB rc={m.returncode}"
        )
        result.hugo.append(m)
        if not m.ok:
            result.failures.append(f"hugo run {i} exited {m.returncode}:\n{tail(m.stderr)}")

    def run_bare(i: int) -> None:
        remove(bare_out)
        m = measure(bare_cmd, cwd=BENCH_DIR, env=dict(os.environ), timeout=args.timeout)
        log(f"N={n} run {i}: bare pipeline {m.seconds:.2f} s (CPU {m.cpu_seconds:.2f} s) "
            f"{m.rss_mib:.0f} MiB rc={m.returncode}")
        result.bare.append(m)
        if not m.ok:
            result.failures.append(f"bare pipeline run {i} exited {m.returncode}:\n"
                                   f"{tail(m.stderr)}")

    def run_digest(i: int) -> None:
        nonlocal digest_broken
        if digest_broken or args.hugo_only:
            return  # a build that failed once fails again; don't spend the runs on it
        remove(digest_out)
        remove(digest_dir / ".digest-cache")
        cold = measure(build, cwd=digest_dir, env=env, timeout=args.timeout)
        log(
            f"N={n} run {i}: digest cold {cold.seconds:.2f} s (CPU {cold.cpu_seconds:.2f} s) "
            f"{cold.rss_mib:.0f} MiB rc={cold.returncode}"
        )
        if not cold.ok:
            digest_broken = True
            result.failures.append(
                f"digest build (cold, run {i}) exited {cold.returncode}: "
                f"{shlex.join(build)}\n{tail(cold.stderr)}"
            )
            return
        result.cold.append(cold)
        again = measure(build, cwd=digest_dir, env=env, timeout=args.timeout)
        log(f"N={n} run {i}: digest no-change {again.seconds:.2f} s rc={again.returncode}")
        if again.ok:
            result.nochange.append(again)
        else:
            result.failures.append(f"digest no-change rebuild, run {i}:\n{tail(again.stderr)}")
        original = edit_one_sidecar(edited)
        try:
            one = measure(build, cwd=digest_dir, env=env, timeout=args.timeout)
        finally:
            edited.write_bytes(original)  # the cached site must stay as generated
        log(f"N={n} run {i}: digest one-sidecar {one.seconds:.2f} s rc={one.returncode}")
        if one.ok:
            result.sidecar.append(one)
            page = digest_out / "articles" / edited.stem / "index.html"
            if page.is_file() and EDIT_MARKER not in page.read_text(errors="replace"):
                result.warnings.append(
                    f"run {i}: the edited summary is not in {page} after the one-sidecar rebuild"
                )
        else:
            result.failures.append(f"digest one-sidecar rebuild, run {i}:\n{tail(one.stderr)}")

    steps = (run_hugo, run_bare, run_digest) if args.bare else (run_hugo, run_digest)
    for i in range(1, args.runs + 1):
        # Alternate the order so neither tool always inherits the other's warm caches.
        for step in steps if i % 2 == 1 else steps[::-1]:
            step(i)
    result.hugo_pages = count_html(hugo_out)
    result.bare_pages = count_html(bare_out) if result.bare else 0
    result.digest_pages = count_html(digest_out) if result.cold else 0
    return result


# ---------------------------------------------------------------------------------------
# Reporting


def median(values: Sequence[Measurement], attr: str = "seconds") -> float | None:
    """Median of successful runs, or None when there were none."""
    good = [getattr(m, attr) for m in values if m.ok]
    return statistics.median(good) if good else None


def fmt(value: float | None, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}×"


def results_table(results: Sequence[SizeResult]) -> str:
    """The Markdown table the issue asks for, one row per N."""
    lines = [
        "| N | Hugo s | Hugo MiB | digest cold s | digest MiB | digest/Hugo | "
        "digest ms/article | Hugo ms/article | no-change s (×cold) | one-sidecar s (×cold) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        hugo_s, cold_s = median(r.hugo), median(r.cold)
        nochange_s, sidecar_s = median(r.nochange), median(r.sidecar)
        per_digest = None if cold_s is None else cold_s / r.n * 1000
        per_hugo = None if hugo_s is None else hugo_s / r.n * 1000
        cold_cell = fmt(cold_s) if r.cold else "skipped" if r.digest_skipped else "failed"
        lines.append(
            f"| {r.n:,} | {fmt(hugo_s)} | {fmt(median(r.hugo, 'rss_mib'), '.0f')} | "
            f"{cold_cell} | {fmt(median(r.cold, 'rss_mib'), '.0f')} | "
            f"{ratio(cold_s, hugo_s)} | {fmt(per_digest)} | {fmt(per_hugo)} | "
            f"{fmt(nochange_s)} ({ratio(nochange_s, cold_s)}) | "
            f"{fmt(sidecar_s)} ({ratio(sidecar_s, cold_s)}) |"
        )
    return "\n".join(lines)


def bare_table(results: Sequence[SizeResult]) -> str:
    """The bare Python pipeline beside Hugo and digest (`--bare`): what Python and the
    same libraries cost on these articles before any of digest's own work."""
    lines = [
        "| N | bare pipeline s | bare MiB | bare/Hugo | digest cold/bare |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        bare_s = median(r.bare)
        lines.append(
            f"| {r.n:,} | {fmt(bare_s)} | {fmt(median(r.bare, 'rss_mib'), '.0f')} | "
            f"{ratio(bare_s, median(r.hugo))} | {ratio(median(r.cold), bare_s)} |"
        )
    return "\n".join(lines)


def raw_runs(results: Sequence[SizeResult]) -> str:
    """Every measurement, so a reader can see the spread behind each median."""
    lines = [
        "| N | what | seconds per run | CPU seconds per run | peak MiB per run |",
        "|---:|---|---|---|---|",
    ]
    for r in results:
        for name, runs in (
            ("hugo", r.hugo),
            ("bare pipeline", r.bare),
            ("digest cold", r.cold),
            ("digest no-change", r.nochange),
            ("digest one-sidecar", r.sidecar),
        ):
            if runs:
                secs = ", ".join(f"{m.seconds:.2f}" for m in runs)
                cpus = ", ".join(f"{m.cpu_seconds:.2f}" for m in runs)
                mibs = ", ".join(f"{m.rss_mib:.0f}" for m in runs)
                lines.append(f"| {r.n:,} | {name} | {secs} | {cpus} | {mibs} |")
    return "\n".join(lines)


def machine_description() -> str:
    """CPU, cores and memory: enough to compare results files from different machines."""
    cpu = platform.processor() or platform.machine()
    try:
        info = Path("/proc/cpuinfo").read_text()
        found = re.search(r"model name\s*:\s*(.+)", info)
        cpu = found.group(1).strip() if found else cpu
        mem = re.search(r"MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text())
        memory = f", {int(mem.group(1)) / 1024 / 1024:.1f} GiB RAM" if mem else ""
    except OSError:
        memory = ""
    return f"{cpu}, {os.cpu_count()} logical CPUs{memory}, {platform.platform()}"


def checkout_description(root: Path = REPO_ROOT) -> str:
    """The commit of the checkout this script is in, and whether it has uncommitted
    changes: which code a report measured, when digest runs from this checkout (the
    default, with an editable install)."""
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              text=True, check=False, timeout=60)
    try:
        head, status = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    if head.returncode != 0 or status.returncode != 0:
        return "not a git checkout"
    state = "with uncommitted changes" if status.stdout.strip() else "clean"
    return f"commit {head.stdout.strip()} ({state})"


def digest_version(args: argparse.Namespace) -> str:
    cmd, env, origin = digest_command(args.digest_cmd)
    try:
        out = subprocess.run(
            [*cmd, "--version"],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO_ROOT,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc}); command: {origin}"
    text = (out.stdout or out.stderr).strip().splitlines()
    failed = f"--version failed (rc {out.returncode})"
    version = text[-1] if out.returncode == 0 and text else failed
    return f"{version}; command: {origin}"


def report(results: Sequence[SizeResult], args: argparse.Namespace, hugo_version: str) -> str:
    """The whole Markdown report: settings, the table, raw runs and any failures."""
    jobs = f"--jobs {args.jobs}" if args.jobs else "digest's default"
    outputs = args.out_root or args.work
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    parts = [
        f"# digest vs Hugo, {dt.date.today().isoformat()}",
        "",
        f"- machine: {machine_description()}",
        f"- Hugo: {hugo_version}",
        f"- digest: {digest_version(args)} ({jobs})",
        f"- this checkout: {checkout_description()}",
        f"- outputs written under {outputs}",
        *(["- sidecars: topics and summary only, no people (`--plain`): the same articles "
            "with their annotations left out"] if args.plain else []),
        f"- load average at the end (1, 5, 15 min): {load}; other processes skew wall times, "
        "CPU seconds (user + system, in the run list) less so",
        f"- Python {platform.python_version()}; seed {args.seed}; {args.runs} paired run(s) "
        "per size, medians of successful runs; whole process under `/usr/bin/time -v`",
        "",
        results_table(results),
        "",
        *(["The bare Python pipeline (`bare.py`, on the Hugo twin's articles, "
           f"{bare_jobs(args)} processes):", "",
           bare_table(results), ""] if args.bare else []),
        "Output HTML files (shape check): "
        + "; ".join(f"N={r.n:,}: Hugo {r.hugo_pages}, digest {r.digest_pages}"
                    + (f", bare {r.bare_pages}" if args.bare else "") for r in results),
        "",
        "Site generation (when not cached): "
        + "; ".join(f"N={r.n:,}: {fmt(r.generation_seconds)} s" for r in results),
        "",
        "## Every run",
        "",
        raw_runs(results),
    ]
    problems = [(r.n, text) for r in results for text in r.failures + r.warnings]
    if problems:
        parts += ["", "## Failures and warnings", ""]
        for n, text in problems:
            parts += [f"N={n:,}:", "", "```", text, "```", ""]
    return "\n".join(parts).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; exit 1 when any build failed, 2 when set-up is missing."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="1000,5000,10000",
        help="comma-separated article counts (default 1000,5000,10000)",
    )
    parser.add_argument("--runs", type=int, default=5, help="paired runs per size (default 5)")
    parser.add_argument("--jobs", type=int, default=None, help="pass --jobs N to digest build")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path("/tmp/digest-bench"),
        help="where sites and outputs are kept (default /tmp/digest-bench)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=None, help="Wikinews corpus folder")
    parser.add_argument(
        "--digest-cmd",
        default=None,
        help="how to run digest (default: `digest` on PATH, else this checkout)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds before one build counts as failed (default 1800)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="report path (default benchmarks/results-<date>.md)",
    )
    parser.add_argument(
        "--out-root",
        type=Path,
        default=None,
        help="where both tools write their output (default: the work folder); "
        "/dev/shm takes the disk out of the measurement on a busy machine",
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="digest's sites keep only topics and summaries in their sidecars (no quotes, "
        "notes, events, people): digest on what the Hugo twin builds, without the annotations",
    )
    parser.add_argument(
        "--bare",
        action="store_true",
        help="also time the bare Python pipeline (bare.py) on the Hugo twin in each run",
    )
    parser.add_argument(
        "--hugo-only",
        action="store_true",
        help="time only Hugo (the reference), e.g. while digest build is broken",
    )
    args = parser.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, not {args.sizes!r}")
    if not sizes or min(sizes) < 1 or args.runs < 1:
        parser.error("--sizes and --runs must be positive")

    hugo_version = require_tools()
    args.work = args.work.resolve()
    args.out_root = args.out_root.resolve() if args.out_root else None
    args.work.mkdir(parents=True, exist_ok=True)
    log(f"Hugo: {hugo_version}")
    results = [bench_size(n, args, hugo_version) for n in sizes]

    text = report(results, args, hugo_version)
    print(results_table(results))
    if args.bare:
        print("\n" + bare_table(results))
    for r in results:
        for failure in r.failures:
            print(f"\nN={r.n:,}: {failure}", file=sys.stderr)
        for warning in r.warnings:
            print(f"\nN={r.n:,}: warning: {warning}", file=sys.stderr)
    out = args.results or BENCH_DIR / f"results-{dt.date.today().isoformat()}.md"
    out.write_text(text, encoding="utf-8")
    log(f"\nwrote {out}")
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
