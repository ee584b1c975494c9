"""Index builds on a Ray cluster: the texts a local build would embed, embedded by Ray actors, shard by shard.

    build_index_ray(corpus, embedder, directory, address="auto")       # exoqa build --ray auto

The build is the local one (`retriever.build_index`: plan_index -> embed_units -> write_index) with the model
calls moved out of the process:

1. Under the index's build lock, a dry run of `incremental.embed_units` lists the texts the local build would
   send to the model (in its order; the vectors of unchanged sources are still reused from the previous index).
2. Those texts are cut into shards of `shard_rows` and embedded by Ray actors that load the model once each
   (`num_cpus=1`, spread over the nodes). The driver writes each finished shard as a Parquet file (its unit ids,
   text hashes and vectors) into a folder beside the index, `.<index>.shards/`; only the driver writes, so the
   nodes need no shared file system. A shard file already there whose rows are the shard's texts (row count,
   ids and hashes, finite unit vectors) is not embedded again: a failed or interrupted build resumes.
3. `build_index` runs as usual with an embedder that returns those vectors, so the plan, the reuse, the manifest
   and the files are exactly a local build's (the vector index kind follows the size, as always).

A worker killed mid-build is survived: each actor is restarted (it loads the model again) and its shard retried,
up to `max_restarts` times. Ray is imported only here, only when asked for (`pip install 'exoqa[ray]'`); every
node needs the same environment (exoqa and its model installed), as Ray clusters usually have.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.corpus.chunking import Span
from assistant.corpus.sources import Corpus
from assistant.errors import ExoqaError
from assistant.retrieval.embeddings import DEFAULT_MODEL, Embedder, load_embedder
from assistant.retrieval.incremental import BATCH, embed_units, source_keys, usable_rows
from assistant.retrieval.index_store import IndexBuildError, build_lock
from assistant.retrieval.retriever import build_index, plan_index
from assistant.settings import Settings

log = logging.getLogger("exoqa")

# A multiple of the local build's batch, so each actor sends the model the same batches a local build would.
SHARD_ROWS = 32 * BATCH
MAX_RESTARTS = 3  # per actor: restarts after its worker process died (each retries the shard it was embedding)
ACTOR_NAME = "ShardEmbedder"  # Ray names the actor's worker process "ray::ShardEmbedder..." (what tests look for)


class RayUnavailableError(ExoqaError):
    """Ray is not installed, or no cluster answers at the given address."""


@dataclass(frozen=True)
class RayBuild:
    """What a Ray build did: vectors reused from the previous index, texts embedded, and shards (resumed: found
    complete on disk from an earlier, interrupted build)."""

    reused: int
    embedded: int
    shards: int
    shards_resumed: int
    actors: int
    seconds: float


def shard_folder(directory: Path) -> Path:
    """Where a Ray build of `directory` keeps its shards until the index is written (beside the lock file)."""
    directory = Path(directory).absolute()
    return directory.with_name(f".{directory.name}.shards")


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _unit_id(unit: Span, kind: str) -> str:
    return f"{kind}:{unit.source_id}:{unit.start}:{unit.end}"


@dataclass(frozen=True)
class Shard:
    """One shard: its rows' unit ids, texts and text hashes, and its file (named by a hash of the model and its
    rows, so a shard of other texts or another model never matches it)."""

    number: int
    unit_ids: list[str]
    texts: list[str]
    hashes: list[str]
    path: Path


def plan_shards(folder: Path, model_id: str, unit_ids: Sequence[str], texts: Sequence[str],
                rows: int = SHARD_ROWS) -> list[Shard]:
    shards = []
    for number, start in enumerate(range(0, len(texts), rows)):
        ids, chunk = list(unit_ids[start:start + rows]), list(texts[start:start + rows])
        hashes = [_text_hash(t) for t in chunk]
        digest = hashlib.sha256(model_id.encode() + b"\0" + "\0".join(f"{i}\0{h}" for i, h in zip(ids, hashes))
                                .encode()).hexdigest()[:24]
        shards.append(Shard(number, ids, chunk, hashes, Path(folder) / f"shard-{number:06d}-{digest}.parquet"))
    return shards


def read_shard(shard: Shard, dim: int) -> np.ndarray | None:
    """The shard's vectors if its file holds exactly its rows as finite unit vectors; None otherwise."""
    import pyarrow.parquet as pq

    if not shard.path.exists():
        return None
    try:
        table = pq.read_table(shard.path)
        if table.num_rows != len(shard.texts) or table.column("unit_id").to_pylist() != shard.unit_ids \
                or table.column("text_sha256").to_pylist() != shard.hashes:
            return None
        vectors = np.asarray(table.column("vector").combine_chunks().flatten().to_numpy(), np.float32)
        vectors = vectors.reshape(len(shard.texts), dim)
    except (OSError, ValueError, KeyError) as exc:  # pyarrow's errors are OSError / ValueError subclasses
        log.warning("exoqa: shard %s is unreadable (%s); embedding it again", shard.path.name, exc)
        return None
    return vectors if usable_rows(vectors).all() else None


def write_shard(shard: Shard, vectors: np.ndarray) -> None:
    """Write the shard atomically (temporary file, fsync, rename): a killed build leaves no partial shard."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    vectors = np.ascontiguousarray(vectors, np.float32)
    column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), vectors.shape[1])
    table = pa.table({"unit_id": shard.unit_ids, "text_sha256": shard.hashes, "vector": column})
    shard.path.parent.mkdir(parents=True, exist_ok=True)
    partial = shard.path.with_name(shard.path.name + ".partial")
    pq.write_table(table, partial)
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, shard.path)


def _ray():
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailableError(f"distributed builds need Ray: pip install 'exoqa[ray]' ({exc})") from None
    return ray


def _connect(ray, address: str) -> bool:
    """Connect to the cluster (address, "auto" for the one `ray start` began here, "local" to start one in this
    process); True if this call connected (and so should disconnect)."""
    if ray.is_initialized():
        return False
    host, colon, port = address.rpartition(":")
    if colon and port.isdigit() and "://" not in address:  # fail at once, not after Ray's minute of retries
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
        except OSError as exc:
            raise RayUnavailableError(f"no Ray cluster answers at {address} ({exc}); start one with `ray start "
                                      "--head`, or pass --ray local") from None
    try:
        if address == "local":
            ray.init(log_to_driver=False, logging_level=logging.WARNING, include_dashboard=False)
        else:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayUnavailableError(f"no Ray cluster at {address!r} ({exc}); start one with `ray start --head`, "
                                  "or pass --ray local") from exc
    return True


def _actor_class(ray):
    @ray.remote(num_cpus=1, max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS)
    class ShardEmbedder:
        """Loads the model once; embeds one shard's texts per call, in the local build's batches."""

        def __init__(self, model: str, allow_download: bool) -> None:
            self.embedder = load_embedder(model, allow_download=allow_download)

        def model_id(self) -> str:
            return self.embedder.model_id

        def pid(self) -> int:
            return os.getpid()

        def embed(self, number: int, texts: list[str]) -> tuple[int, np.ndarray]:
            rows = [self.embedder.embed_passages(texts[b:b + BATCH]) for b in range(0, len(texts), BATCH)]
            return number, np.vstack(rows)

    return ShardEmbedder


def embed_on_ray(shards: list[Shard], model: str, model_id: str, dim: int, address: str = "auto",
                 actors: int | None = None, allow_download: bool = False, max_restarts: int = MAX_RESTARTS,
                 on_shard: Callable[[Shard], None] | None = None) -> tuple[dict[int, np.ndarray], int]:
    """({shard number: vectors}, actors used) for `shards`; each shard's file is written as it arrives.

    `actors` defaults to the cluster's CPUs (one actor per core; the model engine runs one thread in each)."""
    ray = _ray()
    connected = _connect(ray, address)
    try:
        count = max(1, min(actors or int(ray.cluster_resources().get("CPU", 1)), len(shards)))
        embedder_actor = _actor_class(ray).options(scheduling_strategy="SPREAD", max_restarts=max_restarts,
                                                   max_task_retries=max_restarts)
        pool = [embedder_actor.remote(model, allow_download) for _ in range(count)]
        found = set(ray.get([a.model_id.remote() for a in pool]))
        if found != {model_id}:
            raise IndexBuildError(f"the Ray workers load model {sorted(found)}, not this build's {model_id!r}; "
                                  "install the same exoqa and model on every node")
        by_number = {s.number: s for s in shards}
        waiting = list(reversed(shards))
        running: dict = {}  # object ref -> actor
        vectors: dict[int, np.ndarray] = {}
        for actor in pool:  # one shard in flight per actor: a restarted actor retries only its own shard
            if waiting:
                shard = waiting.pop()
                running[actor.embed.remote(shard.number, shard.texts)] = actor
        while running:
            done, _ = ray.wait(list(running), num_returns=1)
            actor = running.pop(done[0])
            number, rows = ray.get(done[0])
            shard = by_number[number]
            if rows.shape != (len(shard.texts), dim):
                raise IndexBuildError(f"shard {number} came back with shape {rows.shape}, need ({len(shard.texts)}, "
                                      f"{dim})")
            write_shard(shard, rows)
            vectors[number] = rows
            if on_shard is not None:
                on_shard(shard)
            if waiting:
                shard = waiting.pop()
                running[actor.embed.remote(shard.number, shard.texts)] = actor
        return vectors, count
    except ray.exceptions.RayError as exc:
        raise IndexBuildError(f"the Ray build failed ({type(exc).__name__}: {str(exc).splitlines()[0]}); the "
                              "shards finished so far are saved, and running the build again resumes from them"
                              ) from exc
    finally:
        if connected:
            ray.shutdown()


class _PrecomputedEmbedder:
    """The build's embedder, except that passage vectors come from the Ray shards (looked up by text)."""

    def __init__(self, embedder: Embedder, vectors: dict[str, np.ndarray]) -> None:
        self._embedder, self._vectors = embedder, vectors
        self.model_id, self.dim = embedder.model_id, embedder.dim

    def count_tokens(self, text: str) -> int:
        return self._embedder.count_tokens(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embedder.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        try:
            return np.vstack([self._vectors[_text_hash(t)] for t in texts])
        except KeyError:
            raise IndexBuildError("the build asked for a text the Ray shards do not hold (did the corpus change "
                                  "during the build?); run it again") from None


def _texts_to_embed(directory: Path, embedder: Embedder, plan, keys: dict[str, str]) -> list[str]:
    """The texts the local build would send to the model now, in its order (a dry run of embed_units: the
    previous index's unchanged sources are reused, exactly as in the real run that follows)."""
    wanted: list[str] = []

    def record(batch: list[str]) -> np.ndarray:
        wanted.extend(batch)
        return np.zeros((len(batch), embedder.dim), np.float32)

    embed_units(directory, embedder.dim, plan.units, plan.texts, keys, record, progress=False)
    return wanted


def build_index_ray(corpus: Corpus, embedder: Embedder, directory: Path, settings: Settings | None = None,
                    address: str = "auto", model: str = DEFAULT_MODEL, actors: int | None = None,
                    shard_rows: int = SHARD_ROWS, allow_download: bool = False, max_restarts: int = MAX_RESTARTS,
                    progress: bool = True, on_progress=None, keep_shards: bool = False) -> RayBuild:
    """Build the index into `directory` as `build_index` would, embedding on the Ray cluster at `address`.

    `embedder` (the model `model` loaded here) plans the build and embeds queries; the actors load `model`
    themselves. `on_progress(done, total)` follows the texts embedded. The shard folder is removed once the
    index is written unless `keep_shards`."""
    from tqdm import tqdm

    started = time.perf_counter()
    settings = settings or Settings.from_env()
    directory = Path(directory)
    plan = plan_index(corpus, embedder, settings)
    keys = source_keys(embedder.model_id, plan.units, plan.texts)
    with build_lock(directory):
        todo = _texts_to_embed(directory, embedder, plan, keys)
        ids_by_hash: dict[str, str] = {}
        for unit, text, kind in zip(plan.units, plan.texts,
                                    ["s"] * len(plan.sentences) + ["p"] * len(plan.passages)):
            ids_by_hash.setdefault(_text_hash(text), _unit_id(unit, kind))
        unique = list(dict.fromkeys(todo))  # a text repeated in the corpus is embedded once
        folder = shard_folder(directory)
        shards = plan_shards(folder, embedder.model_id, [ids_by_hash.get(_text_hash(t), "") for t in unique],
                             unique, shard_rows)
        vectors: dict[int, np.ndarray] = {}
        for shard in shards:
            stored = read_shard(shard, embedder.dim)
            if stored is not None:
                vectors[shard.number] = stored
        resumed = len(vectors)
        pending = [s for s in shards if s.number not in vectors]
        total = sum(len(s.texts) for s in pending)
        if resumed:
            log.warning("exoqa: resuming a Ray build of %s: %d of %d shards were already embedded", directory,
                        resumed, len(shards))
        bar = tqdm(total=total, desc="embedding on Ray", unit="text", disable=not progress or not total)
        done = 0

        def shard_finished(shard: Shard) -> None:
            nonlocal done
            done += len(shard.texts)
            bar.update(len(shard.texts))
            if on_progress is not None:
                on_progress(done, total)

        count = 0
        try:
            if pending:
                embedded, count = embed_on_ray(pending, model, embedder.model_id, embedder.dim, address, actors,
                                               allow_download, max_restarts, shard_finished)
                vectors.update(embedded)
        finally:
            bar.close()
        by_hash = {h: row for shard in shards for h, row in zip(shard.hashes, vectors[shard.number])}
        reused = build_index(corpus, _PrecomputedEmbedder(embedder, by_hash), directory, settings, progress=False)
    if not keep_shards:
        shutil.rmtree(folder, ignore_errors=True)
    return RayBuild(reused=reused, embedded=total, shards=len(shards), shards_resumed=resumed, actors=count,
                    seconds=time.perf_counter() - started)
