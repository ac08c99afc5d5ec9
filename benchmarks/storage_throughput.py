"""Blob-storage throughput and client memory, beside `cp` of the same file in the same run.

    python benchmarks/storage_throughput.py --size-mib 1024 --runs 3

Each transfer runs in a fresh child process that times only the transfer itself and reports its
own peak RSS (VmHWM), so the numbers are the client's: the parent runs the S3 endpoint, a moto
ThreadedMotoServer. moto is an in-process S3 emulator, so the S3 numbers measure the client path
(our code, boto3's transfer manager, HTTP on loopback, moto's own speed), not AWS.

Targets (issue 4): local write and read >= 60% of `cp` throughput; peak client RSS < 100 MiB
for any object size, both backends.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
KEY = "bench/blob"
HERE = Path(__file__).resolve()


# -- child side: one transfer, timed, then report -------------------------------------------------


def _peak_rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(args: argparse.Namespace) -> None:
    from ade.storage.base import BlobStore
    from ade.storage.factory import open_store
    from ade.storage.settings import StorageSettings

    if args.backend == "local":
        settings = StorageSettings(storage_backend="local", storage_path=Path(args.root))
    else:
        tuning: dict[str, Any] = {}
        if args.part_size_mib:
            tuning["s3_part_size_mib"] = args.part_size_mib
        if args.concurrency:
            tuning["s3_max_concurrency"] = args.concurrency
        settings = StorageSettings(
            storage_backend="s3",
            s3_bucket=args.bucket,
            s3_endpoint_url=args.endpoint,
            s3_region="us-east-1",
            **tuning,
        )
    store: BlobStore = open_store(settings)
    if args.python_loop:  # the baseline: the user-space copy loop that runs without a kernel copy
        from ade.storage import file_copy

        def unsupported(*_: object, **__: object) -> int:
            raise file_copy.Unsupported("benchmark baseline")

        file_copy.copy_and_hash = unsupported
    size = 0
    started = time.perf_counter()
    if args.op == "hash":  # the floor of any checksummed write: sha256 of the bytes, no copy
        digest = hashlib.sha256()
        buffer = memoryview(bytearray(MiB))
        with open(args.src, "rb", buffering=0) as raw:
            while count := raw.readinto(buffer):
                digest.update(buffer[:count])
                size += count
    elif args.op == "write":
        with open(args.src, "rb") as source:
            size = store.write(KEY, source).size
    elif args.op == "read":
        with open(args.dst, "wb") as out, store.open(KEY) as chunks:
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "bytes": size, "rss_mib": _peak_rss_mib()}))


# -- parent side ----------------------------------------------------------------------------------


def _run_child(args: argparse.Namespace, backend: str, op: str, **extra: str) -> dict[str, Any]:
    command = [sys.executable, str(HERE), "--child", op, "--backend", backend]
    if args.part_size_mib:
        command += ["--part-size-mib", str(args.part_size_mib)]
    if args.concurrency:
        command += ["--concurrency", str(args.concurrency)]
    for name, value in extra.items():
        command += [f"--{name}", value] if value else [f"--{name}"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"child {backend} {op} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_source(path: Path, size: int) -> None:
    block = os.urandom(MiB)  # incompressible; varied per block so nothing dedupes
    with open(path, "wb") as out:
        for n in range(size // MiB):
            out.write(n.to_bytes(8, "little") + block[8:])
        out.write(os.urandom(size % MiB))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: tmp)")
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--part-size-mib", type=int, default=None, help="default: library's")
    parser.add_argument("--concurrency", type=int, default=None, help="default: library's")
    # child-mode arguments (internal)
    parser.add_argument(
        "--child", choices=["write", "read", "noop", "hash"], help=argparse.SUPPRESS
    )
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--python-loop", action="store_true", help=argparse.SUPPRESS)
    for name in ("src", "dst", "root", "bucket", "endpoint"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.op = args.child
        _child(args)
        return

    size = args.size_mib * MiB
    scratch = Path(tempfile.mkdtemp(prefix="ade-bench-", dir=args.dir))
    rows: list[tuple[str, list[float], list[float]]] = []  # name, seconds, rss
    try:
        src = scratch / "source.bin"
        dst = scratch / "copy.bin"
        root = scratch / "store"
        print(f"object: {args.size_mib} MiB, {args.runs} runs each, scratch {scratch}", flush=True)
        _make_source(src, size)
        os.sync()

        def measure(name: str, once: Any, fresh: Path = dst) -> None:
            seconds, rss = [], []
            for _ in range(args.runs):
                # Every run writes a new file, as cp does: ADE's keys are unique per document
                # and run, so replacing a 1 GiB blob (and freeing its blocks) is not the case.
                if fresh.is_dir():
                    shutil.rmtree(fresh)
                dst.unlink(missing_ok=True)
                os.sync()  # do not let the previous run's dirty pages slow this one down
                took, peak = once()
                seconds.append(took)
                rss.append(peak)
            rows.append((name, seconds, rss))
            print(f"  {name}: median {statistics.median(seconds):.2f} s", flush=True)

        def cp() -> tuple[float, float]:
            return _timed(lambda: subprocess.run(["cp", src, dst], check=True)), float("nan")

        def cp_fsync() -> tuple[float, float]:
            def run() -> None:
                subprocess.run(["cp", src, dst], check=True)
                _fsync(dst)

            return _timed(run), float("nan")

        def child(backend: str, op: str, **extra: str) -> Any:
            def once() -> tuple[float, float]:
                out = _run_child(args, backend, op, **extra)
                if op != "noop" and out["bytes"] != size:
                    sys.exit(f"{backend} {op}: moved {out['bytes']} bytes, expected {size}")
                return out["seconds"], out["rss_mib"]

            return once

        def sha256sum() -> tuple[float, float]:
            run = ["sha256sum", str(src)]
            return _timed(lambda: subprocess.run(run, check=True, capture_output=True)), float(
                "nan"
            )

        measure("cp", cp)
        measure("cp + fsync", cp_fsync)
        # The stores must hash what they store; this shows what hashing alone costs here.
        measure("sha256sum (reference)", sha256sum)
        measure("sha256 in Python (hashlib)", child("local", "hash", src=str(src), root="unused"))
        measure("client baseline (imports only)", child("s3", "noop", bucket="unused"))
        local = {"root": str(root)}
        measure(
            "local write, Python copy loop",
            child("local", "write", src=str(src), **local, **{"python-loop": ""}),
            root,
        )
        measure("local write (fsync)", child("local", "write", src=str(src), **local), root)
        measure("local read", child("local", "read", dst=str(dst), **local))

        if not args.skip_s3:
            from moto.server import ThreadedMotoServer

            os.environ.update(
                AWS_ACCESS_KEY_ID="bench",
                AWS_SECRET_ACCESS_KEY="bench",  # - emulator credentials
                AWS_CONFIG_FILE=os.devnull,
                AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            )
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            import logging

            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            try:
                endpoint = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
                import boto3

                boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
                    Bucket="bench-bucket"
                )
                s3 = {"bucket": "bench-bucket", "endpoint": endpoint}
                measure("s3 (moto) write", child("s3", "write", src=str(src), **s3))
                measure("s3 (moto) read", child("s3", "read", dst=str(dst), **s3))
            finally:
                server.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    cp_median = statistics.median(rows[0][1])
    print()
    from ade.storage.settings import StorageSettings

    defaults = StorageSettings()
    part = args.part_size_mib or defaults.s3_part_size_mib
    concurrency = args.concurrency or defaults.s3_max_concurrency
    print(
        f"Object {args.size_mib} MiB; medians of {args.runs} runs; S3 part size "
        f"{part} MiB x concurrency {concurrency}."
    )
    print("S3 runs against moto, an in-process emulator: they measure the client path, not AWS.")
    print("Peak RSS is the transferring child process's own (VmHWM), not the moto server's.")
    print()
    header = f"{'operation':34} {'median s':>9} {'MiB/s':>9} {'vs cp':>7} {'vs cp+fsync':>12}"
    print(header + f" {'peak RSS MiB':>13}")
    print("-" * (len(header) + 14))
    cp_fsync_median = statistics.median(rows[1][1])
    load = os.getloadavg()[0]
    for name, seconds, rss in rows:
        median = statistics.median(seconds)
        rate = "" if name.startswith("client") else f"{args.size_mib / median:9.0f}"
        vs_cp = "" if name.startswith("client") else f"{cp_median / median:7.0%}"
        vs_sync = "" if name.startswith("client") else f"{cp_fsync_median / median:12.0%}"
        peak = "" if all(r != r for r in rss) else f"{max(rss):13.1f}"
        print(f"{name:34} {median:9.2f} {rate:>9} {vs_cp:>7} {vs_sync:>12} {peak:>13}")
    print()
    print("Targets: local write and read >= 60% of cp; peak RSS < 100 MiB (max over runs).")
    print(
        f"Load average at the end: {load:.1f} on {os.cpu_count()} CPUs (contention skews ratios)."
    )


if __name__ == "__main__":
    main()
