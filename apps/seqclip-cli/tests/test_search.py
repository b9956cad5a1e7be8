"""seqclip.search and its commands: embed (dataset, folder, sentences; resume; another model refused),
index (exact and approximate, recall measured; corrupt files named), search (equal to brute force;
temporal re-ranking equal to the model's own temporal score), predict (windows, labels equal to the
zero-shot classifier's)."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from seqclip_fixtures import one_line, order_dataset, run, tiny_text_model

from seqclip import SeqClip, SeqClipConfig
from seqclip.model.pretrained import model_fingerprint
from seqclip.search import EmbeddingStore, build_index, search
from seqclip.search.predict import windows
from seqclip.search.store import StoreMeta


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig(similarity="temporal", text_model=tiny_text_model(root / "text"), clip_length=32,
                                  encoder_overrides={"vit_depth": 1, "eot_depth": 1}))
    model.save_pretrained(root / "model")
    data = order_dataset(root / "d")
    assert run("embed", data, "--checkpoint", root / "model", "--out", root / "emb", "--batch-size", "5").exit_code == 0
    assert run("index", root / "emb", "--out", root / "idx").exit_code == 0
    return root, data, SeqClip.from_pretrained(root / "model")


def test_embed_writes_parquet_parts_with_sequences_and_the_fingerprint(made):
    root, _, model = made
    store = EmbeddingStore(root / "emb")
    meta = store.read_meta()
    assert meta.fingerprint == model_fingerprint(model) and meta.tables == {"clips": {"rows": 24, "parts": 1},
                                                                            "texts": {"rows": 48, "parts": 1}}
    table = pq.read_table(store.part_path("clips", 0)).to_pydict()
    assert table["id"][:2] == ["c000", "c001"] and table["labels"][0] == ["wave", "clap"]
    assert table["split"].count("test") == 8 and len(table["captions"][0]) == 2
    seq, mask = store.sequences("clips", np.array([0, 23]))
    assert seq.dtype == np.float16 and seq.shape == (2, 2, 256) and mask.all()
    pooled = store.pooled("clips")
    np.testing.assert_allclose(np.linalg.norm(pooled, axis=1), 1.0, rtol=1e-5)


def test_embed_resumes_part_by_part_and_refuses_another_model(made, tmp_path):
    root, data, _ = made
    args = ["embed", data, "--checkpoint", root / "model", "--out", tmp_path / "e", "--no-captions"]
    assert run(*args).exit_code == 0
    store = EmbeddingStore(tmp_path / "e")
    first = store.pooled("clips")
    stamp = store.part_path("clips", 0).stat().st_mtime_ns
    assert run(*args).exit_code == 0 and store.part_path("clips", 0).stat().st_mtime_ns == stamp  # kept
    store.part_path("clips", 0).unlink()  # an interrupted run: the part was never published
    store.part_path("clips", 1).write_bytes(store.part_path("clips", 0, ".mask.npy").read_bytes())  # a stray part
    result = run("index", tmp_path / "e", "--out", tmp_path / "i")
    assert result.exit_code == 2 and "not finished" in one_line(result) and not (tmp_path / "i").exists()
    store.part_path("clips", 1).unlink()
    assert run(*args).exit_code == 0 and np.array_equal(store.pooled("clips"), first)
    other = SeqClip.from_pretrained(root / "model")
    with torch.no_grad():
        other.radar_proj.weight.mul_(2)
    other.save_pretrained(tmp_path / "other")
    result = run("embed", data, "--checkpoint", tmp_path / "other", "--out", tmp_path / "e", "--no-captions")
    assert result.exit_code == 2 and "holds other embeddings (fingerprint" in one_line(result)


def test_embed_reads_folders_and_sentences_and_names_bad_input(made, tmp_path):
    root, data, _ = made
    (tmp_path / "empty").mkdir()
    result = run("embed", tmp_path / "empty", "--checkpoint", root / "model", "--out", tmp_path / "x")
    assert result.exit_code == 2 and "empty folder" in one_line(result) and not (tmp_path / "x").exists()
    (tmp_path / "s.txt").write_text("a person walks\n\nsomeone waves twice\n")
    assert run("embed", "--texts", tmp_path / "s.txt", "--checkpoint", root / "model", "--out", tmp_path / "t").exit_code == 0
    texts = EmbeddingStore(tmp_path / "t").table("texts").to_pydict()
    assert texts["text"] == ["a person walks", "someone waves twice"] and texts["id"] == ["1", "2"]
    (tmp_path / "f" / "sub").mkdir(parents=True)
    for name in ("f/a.npz", "f/sub/b.npz"):
        (tmp_path / name).write_bytes((data / "clips" / "c000.npz").read_bytes())
    assert run("embed", tmp_path / "f", "--checkpoint", root / "model", "--out", tmp_path / "fe").exit_code == 0
    folder = EmbeddingStore(tmp_path / "fe")
    assert folder.table("clips").column("id").to_pylist() == ["a", "sub/b"]
    np.testing.assert_allclose(folder.pooled("clips")[0], EmbeddingStore(root / "emb").pooled("clips")[0], atol=1e-5)


def test_search_equals_brute_force_and_the_reranking_equals_the_temporal_score(made):
    root, _, model = made
    query = "A person waves, then claps."
    hits = search(root / "idx", query, k=5, model=model)
    clips = EmbeddingStore(root / "emb").pooled("clips")
    with torch.no_grad():
        text = model.encode_text([query], return_sequence=True)
    cos = clips @ text.pooled.float().numpy()[0]
    assert [h.row for h in hits] == list(np.argsort(-cos, kind="stable")[:5])
    np.testing.assert_allclose([h.score for h in hits], np.sort(cos)[::-1][:5], rtol=1e-5)
    reranked = search(root / "idx", query, k=5, rerank="temporal", m=5, model=model)  # all 24 candidates
    seq, mask = EmbeddingStore(root / "emb").sequences("clips", np.arange(24))
    with torch.no_grad():
        grid = model.seq_similarity.similarities(torch.from_numpy(seq.astype(np.float32)), text.sequence,
                                                 torch.from_numpy(mask), text.mask)["temporal"][:, 0]  # [24]
    assert [h.row for h in reranked] == torch.argsort(-grid, stable=True)[:5].tolist()
    np.testing.assert_allclose([h.score for h in reranked], grid.sort(descending=True).values[:5], rtol=1e-4)


def test_search_names_its_mistakes(made, tmp_path):
    root, data, _ = made
    result = run("search", tmp_path / "none", "a person walks")
    assert result.exit_code == 2 and "not an index directory" in one_line(result)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "index.json").write_text((root / "idx" / "index.json").read_text())
    (bad / "index.faiss").write_bytes(b"not faiss")
    result = run("search", bad, "a person walks")
    assert result.exit_code == 2 and "index.faiss: unreadable" in one_line(result)
    other = SeqClip.from_pretrained(root / "model")
    with torch.no_grad():
        other.text_proj.weight.mul_(2)
    other.save_pretrained(tmp_path / "other")
    result = run("search", root / "idx", "a person walks", "--checkpoint", tmp_path / "other")
    assert result.exit_code == 2 and "another model than the one whose embeddings" in one_line(result)


def _clustered(n: int, d: int, seed: int = 0) -> np.ndarray:
    g = np.random.default_rng(seed)
    centres = g.standard_normal((32, d))
    x = centres[g.integers(0, 32, n)] + 0.5 * g.standard_normal((n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("kind", ["hnsw", "ivfsq", "ivfpq"])
def test_approximate_indexes_measure_their_recall(tmp_path, kind):
    store = EmbeddingStore(tmp_path / "emb")
    vectors = _clustered(4000, 32)
    store.write_meta(StoreMeta("f" * 16, "m", "s", 32, False, 32, 4000, {"clips": {"rows": 4000, "parts": 1}}))
    store.write_part("clips", 0, {"row": np.arange(4000), "id": [str(i) for i in range(4000)], "pooled": vectors})
    info = build_index(tmp_path / "emb", tmp_path / "idx", kind=kind, queries=200)
    assert info.kind == kind and info.vectors == 4000 and info.queries == 200
    assert 0.5 < info.recall_at_10 <= 1.0
    assert json.loads((tmp_path / "idx" / "index.json").read_text())["recall_at_10"] == info.recall_at_10


@given(frames=st.integers(16, 400), window=st.sampled_from([16, 32, 64]), stride=st.integers(1, 80))
def test_windows_cover_the_recording(frames, window, stride):
    if frames < window:
        return
    starts = windows(frames, window, stride)
    assert starts[0] == 0 and starts[-1] + window == frames  # the first and the last frame are in a window
    assert all(0 <= s <= frames - window for s in starts) and starts == sorted(set(starts))
    assert all(b - a == stride for a, b in zip(starts[:-2], starts[1:-1], strict=True))
    covered = np.zeros(frames, bool)
    for s in starts:
        covered[s:s + window] = True
    assert covered.all() or stride > window  # a stride longer than the window samples, leaving gaps


def test_predict_gives_the_zero_shot_classifiers_labels(made, tmp_path):
    from radar_text_data.classes import read_classes
    from seqclip.data import RadarTextDataset
    from seqclip.evaluation.scorer import Scorer
    from seqclip.evaluation.zero_shot import build_zero_shot_classifier

    root, data, model = made
    (tmp_path / "classes.txt").write_text("wave\nclap\njump\nkick\n")
    result = run("predict", data, "--checkpoint", root / "model", "--classes", tmp_path / "classes.txt",
                 "--split", "test", "-k", "2", "--out", tmp_path / "p.json")
    assert result.exit_code == 0, result.output
    got = json.loads((tmp_path / "p.json").read_text())
    scorer = Scorer(model)
    clf = build_zero_shot_classifier(scorer, read_classes(tmp_path / "classes.txt"))
    clips = scorer.embed_clips(RadarTextDataset(data, "test", length=32, train=False))
    scores = clf.scores(clips)  # [N, C]
    assert [g["label"] for g in got] == [clf.classes[i] for i in scores.argmax(1).tolist()]
    np.testing.assert_allclose([g["score"] for g in got], scores.max(1).values, rtol=1e-4, atol=1e-6)
    (tmp_path / "described.json").write_text(json.dumps({"wave": {"descriptions": ["a person raises one arm."]},
                                                         "clap": {"descriptions": ["a person brings the hands in."]}}))
    described = run("predict", data, "--checkpoint", root / "model", "--classes", tmp_path / "described.json",
                    "--split", "test", "-k", "1", "--prompts", "descriptions", "--out", tmp_path / "d.json")
    assert described.exit_code == 0, described.output
    clf = build_zero_shot_classifier(scorer, read_classes(tmp_path / "described.json"), source="descriptions")
    assert [g["label"] for g in json.loads((tmp_path / "d.json").read_text())] == [
        clf.classes[i] for i in clf.scores(clips).argmax(1).tolist()]
    refused = run("predict", data, "--checkpoint", root / "model", "--classes", tmp_path / "classes.txt",
                  "--prompts", "both")
    assert refused.exit_code == 2 and "--prompts both:" in refused.output and "wave" in refused.output


def test_the_index_kind_follows_size_and_memory():
    from seqclip.cli.search import INDEX_KINDS
    from seqclip.search import index

    assert INDEX_KINDS == index.INDEX_KINDS  # the CLI's torch-free copy
    n = index.FLAT_LIMIT + 1
    assert index._choose(index.FLAT_LIMIT, 256, 1) == "flat"
    assert index._choose(n, 256, n * (1024 + 256) / 2**20) == "hnsw"  # vectors + graph fit
    assert index._choose(n, 256, n * 256 / 2**20) == "ivfsq"  # one byte a dimension fits
    assert index._choose(n, 256, 1) == "ivfpq"


def test_stored_sequences_come_back_in_the_order_asked_across_parts(tmp_path):
    store = EmbeddingStore(tmp_path / "e")
    store.write_meta(StoreMeta("f" * 16, "m", "s", 2, True, 32, 4, {"clips": {"rows": 10, "parts": 3}}))
    seq = np.arange(10 * 3 * 2, dtype=np.float16).reshape(10, 3, 2)
    mask = (np.arange(30).reshape(10, 3) % 4) > 0
    for part in range(3):
        rows = slice(4 * part, min(4 * part + 4, 10))
        n = len(range(10)[rows])
        store.write_part("clips", part, {"row": np.arange(10)[rows], "id": [str(i) for i in range(10)][rows],
                                         "pooled": np.ones((n, 2), np.float32)}, seq[rows], mask[rows])
    ask = np.array([9, 0, 5, 4, 9, 3])
    got_seq, got_mask = store.sequences("clips", ask)
    assert np.array_equal(got_seq, seq[ask]) and np.array_equal(got_mask, mask[ask])
