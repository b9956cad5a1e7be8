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
from seqclip.search.store import StoreMeta
from seqclip.search.windows import timeline_spans, windows


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    torch.manual_seed(0)
    model = SeqClip(
        SeqClipConfig(
            similarity="temporal",
            text_model=tiny_text_model(root / "text"),
            clip_length=32,
            encoder_overrides={"vit_depth": 1, "eot_depth": 1},
        )
    )
    model.save_pretrained(root / "model")
    data = order_dataset(root / "d")
    assert run("embed", data, "--checkpoint", root / "model", "--out", root / "emb", "--batch-size", "5").exit_code == 0
    assert run("index", root / "emb", "--out", root / "idx").exit_code == 0
    return root, data, SeqClip.from_pretrained(root / "model")


def test_embed_writes_parquet_parts_with_sequences_and_the_fingerprint(made):
    root, _, model = made
    store = EmbeddingStore(root / "emb")
    meta = store.read_meta()
    assert meta.fingerprint == model_fingerprint(model) and meta.tables == {
        "clips": {"rows": 24, "parts": 1},
        "texts": {"rows": 48, "parts": 1},
    }
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
    assert result.exit_code == 2 and "holds other embeddings (model fingerprint" in one_line(result)


def test_embed_reads_folders_and_sentences_and_names_bad_input(made, tmp_path):
    root, data, _ = made
    (tmp_path / "empty").mkdir()
    result = run("embed", tmp_path / "empty", "--checkpoint", root / "model", "--out", tmp_path / "x")
    assert result.exit_code == 2 and "empty folder" in one_line(result) and not (tmp_path / "x").exists()
    (tmp_path / "s.txt").write_text("a person walks\n\nsomeone waves twice\n")
    assert (
        run("embed", "--texts", tmp_path / "s.txt", "--checkpoint", root / "model", "--out", tmp_path / "t").exit_code
        == 0
    )
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
        grid = model.seq_similarity.similarities(
            torch.from_numpy(seq.astype(np.float32)), text.sequence, torch.from_numpy(mask), text.mask
        )["temporal"][:, 0]  # [24]
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
        covered[s : s + window] = True
    assert covered.all() or stride > window  # a stride longer than the window samples, leaving gaps


def test_predict_gives_the_zero_shot_classifiers_labels(made, tmp_path):
    from radar_text_data.classes import read_classes
    from seqclip.data import RadarTextDataset
    from seqclip.evaluation.scorer import Scorer
    from seqclip.evaluation.zero_shot import build_zero_shot_classifier

    root, data, model = made
    (tmp_path / "classes.txt").write_text("wave\nclap\njump\nkick\n")
    result = run(
        "predict",
        data,
        "--checkpoint",
        root / "model",
        "--classes",
        tmp_path / "classes.txt",
        "--split",
        "test",
        "-k",
        "2",
        "--out",
        tmp_path / "p.json",
    )
    assert result.exit_code == 0, result.output
    got = json.loads((tmp_path / "p.json").read_text())
    scorer = Scorer(model)
    clf = build_zero_shot_classifier(scorer, read_classes(tmp_path / "classes.txt"))
    clips = scorer.embed_clips(RadarTextDataset(data, "test", length=32, train=False))
    scores = clf.scores(clips)  # [N, C]
    assert [g["label"] for g in got] == [clf.classes[i] for i in scores.argmax(1).tolist()]
    np.testing.assert_allclose([g["score"] for g in got], scores.max(1).values, rtol=1e-4, atol=1e-6)
    (tmp_path / "described.json").write_text(
        json.dumps(
            {
                "wave": {"descriptions": ["a person raises one arm."]},
                "clap": {"descriptions": ["a person brings the hands in."]},
            }
        )
    )
    described = run(
        "predict",
        data,
        "--checkpoint",
        root / "model",
        "--classes",
        tmp_path / "described.json",
        "--split",
        "test",
        "-k",
        "1",
        "--prompts",
        "descriptions",
        "--out",
        tmp_path / "d.json",
    )
    assert described.exit_code == 0, described.output
    clf = build_zero_shot_classifier(scorer, read_classes(tmp_path / "described.json"), source="descriptions")
    assert [g["label"] for g in json.loads((tmp_path / "d.json").read_text())] == [
        clf.classes[i] for i in clf.scores(clips).argmax(1).tolist()
    ]
    refused = run(
        "predict", data, "--checkpoint", root / "model", "--classes", tmp_path / "classes.txt", "--prompts", "both"
    )
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
        store.write_part(
            "clips",
            part,
            {
                "row": np.arange(10)[rows],
                "id": [str(i) for i in range(10)][rows],
                "pooled": np.ones((n, 2), np.float32),
            },
            seq[rows],
            mask[rows],
        )
    ask = np.array([9, 0, 5, 4, 9, 3])
    got_seq, got_mask = store.sequences("clips", ask)
    assert np.array_equal(got_seq, seq[ask]) and np.array_equal(got_mask, mask[ask])


# ---------------------------------------------------------------------- own recordings: what a new user hit
def test_a_resumed_embed_must_embed_the_same_rows_and_the_same_path_spelled_otherwise_is_the_same(
    made, tmp_path, monkeypatch
):
    root, data, _ = made
    args = ["--checkpoint", root / "model", "--out", tmp_path / "e", "--no-captions"]
    assert run("embed", data, "--split", "test", *args).exit_code == 0
    result = run("embed", data, "--split", "all", *args)
    assert result.exit_code == 2 and "--split 'test' then, 'all' now" in one_line(result)
    assert EmbeddingStore(tmp_path / "e").read_meta().tables["clips"]["rows"] == 8
    monkeypatch.chdir(data.parent)
    again = run("embed", f"./{data.name}", "--split", "test", *args)
    assert again.exit_code == 0 and "nothing to do" in again.output
    window = run("embed", data, "--split", "test", "--window", "16", *args)
    assert window.exit_code == 2 and "--window None then, 16 now" in one_line(window)


def test_embed_covers_long_recordings_by_window_and_says_what_it_cuts(made, tmp_path):
    root, data, model = made  # 24 clips of 48 frames, a model of 32-frame clips
    args = ["--checkpoint", root / "model", "--no-captions", "--split", "test"]
    cut = run("embed", data, "--out", tmp_path / "one", *args)
    assert cut.exit_code == 0 and "8 of 8 clips are longer than the model's clip length 32 frames" in cut.output
    assert run("embed", data, "--out", tmp_path / "w", "--window", "16", "--stride", "16", *args).exit_code == 0
    table = EmbeddingStore(tmp_path / "w").table("clips").to_pydict()
    assert len(table["id"]) == 24 and table["start"][:3] == [0, 16, 32] and table["end"][:3] == [16, 32, 48]
    first = table["id"][0]
    from radar_text_data import load_clip, read_manifest

    record = next(r for r in read_manifest(data) if r.id == first)
    views = load_clip(data, record)
    with torch.no_grad():  # the last window is the recording's frames 32-48, embedded as a clip of its own
        alone = model.encode_radar(*(views[k][:, 32:48] for k in ("range_time", "doppler_time", "azimuth_time")))
    np.testing.assert_allclose(EmbeddingStore(tmp_path / "w").pooled("clips")[2], alone.pooled[0].numpy(), atol=1e-5)
    assert run("index", tmp_path / "w", "--out", tmp_path / "wi").exit_code == 0
    from seqclip.search import Searcher

    searcher = Searcher(tmp_path / "wi")
    hits = searcher.query(clip=f"{first}@32", k=3)
    assert all(h.start is not None and h.end - h.start == 16 for h in hits)
    assert (first, 32) not in [(h.id, h.start) for h in hits]  # the query itself is left out
    result = run("search", tmp_path / "wi", "--clip", first)
    assert result.exit_code == 2 and f"embedded as 3 windows; name one as {first}@START" in one_line(result)


def test_stored_paths_follow_a_moved_project_and_a_missing_one_is_named(made, tmp_path, monkeypatch):
    import shutil

    root, data, model = made
    proj = tmp_path / "proj"
    shutil.copytree(data, proj / "data")
    assert (
        run(
            "embed",
            proj / "data",
            "--checkpoint",
            root / "model",
            "--out",
            proj / "emb",
            "--no-captions",
            "--split",
            "test",
        ).exit_code
        == 0
    )
    assert run("index", proj / "emb", "--out", proj / "idx").exit_code == 0
    assert json.loads((proj / "idx" / "index.json").read_text())["embeddings"] == "../emb"
    assert json.loads((proj / "emb" / "embeddings.json").read_text())["source"] == "../data"
    proj.rename(tmp_path / "proj2")
    monkeypatch.chdir(root)  # another directory than the one the paths were given in
    moved = tmp_path / "proj2"
    result = run("search", moved / "idx", "a person waves", "-k", "2", "--out", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    (tmp_path / "other").mkdir()
    (moved / "emb").rename(tmp_path / "other" / "emb")  # as deep as before: its own relative paths still hold
    lost = run("search", moved / "idx", "a person waves")
    assert lost.exit_code == 2 and "the embeddings that" in one_line(lost) and "--embeddings" in one_line(lost)
    found = run("search", moved / "idx", "a person waves", "--embeddings", tmp_path / "other" / "emb")
    assert found.exit_code == 0, found.output
    wrong = run("search", moved / "idx", "a person waves", "--embeddings", root / "emb")
    assert wrong.exit_code == 2 and "not the embeddings of this index" in one_line(wrong)
    (tmp_path / "other" / "emb").rename(moved / "emb")
    shutil.rmtree(moved / "data")  # the sheet needs the views: the results come first all the same
    sheet = run("search", moved / "idx", "a person waves", "--out", tmp_path / "r2.json", "--sheet", tmp_path / "s.png")
    assert sheet.exit_code == 2 and "the data recorded in" in one_line(sheet) and "rank" in sheet.output
    assert len(json.loads((tmp_path / "r2.json").read_text())) == 8 and not (tmp_path / "s.png").exists()


def test_the_recorded_model_when_missing_is_named_not_blamed_on_a_flag(made, tmp_path):
    import shutil

    root, data, _ = made
    shutil.copytree(root / "model", tmp_path / "m")
    assert (
        run(
            "embed", data, "--checkpoint", tmp_path / "m", "--out", tmp_path / "e", "--no-captions", "--split", "test"
        ).exit_code
        == 0
    )
    assert run("index", tmp_path / "e", "--out", tmp_path / "i").exit_code == 0
    shutil.rmtree(tmp_path / "m")
    result = run("search", tmp_path / "i", "a person waves")
    assert (
        result.exit_code == 2
        and "the model recorded in" in one_line(result)
        and "pass --checkpoint" in one_line(result)
    )


def test_an_index_too_small_for_its_kind_is_refused_and_k_comes_back_whole(made, tmp_path):
    from seqclip.search import Searcher

    root, _, _ = made
    result = run("index", root / "emb", "--out", tmp_path / "pq", "--kind", "ivfpq")
    assert result.exit_code == 2 and "24 vectors are too few" in one_line(result) and not (tmp_path / "pq").exists()
    assert run("index", root / "emb", "--out", tmp_path / "sq", "--kind", "ivfsq").exit_code == 0
    searcher = Searcher(tmp_path / "sq")
    assert len(searcher.query(clip="c000", k=60)) == 23  # every other clip, though one probe covers 16 of 19 lists
    assert len(searcher.query(clip="c000", k=20)) == 20 and searcher.index.nprobe == 16


def test_queries_answer_many_sentences_in_one_load_as_json_lines(made, tmp_path):
    root, _, model = made
    sentences = ["A person waves, then claps.", "Someone jumps and afterwards kicks.", "A person claps."]
    (tmp_path / "q.txt").write_text("\n".join(sentences) + "\n\n")
    result = run(
        "search",
        root / "idx",
        "--queries",
        tmp_path / "q.txt",
        "-k",
        "4",
        "--rerank",
        "temporal",
        "-m",
        "2",
        "--out",
        tmp_path / "r.jsonl",
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [x["query"] for x in lines] == sentences
    for line in lines:  # batched sentences rank as each alone does
        alone = search(root / "idx", line["query"], k=4, rerank="temporal", m=2, model=model)
        assert [h["row"] for h in line["hits"]] == [h.row for h in alone]
        np.testing.assert_allclose([h["score"] for h in line["hits"]], [h.score for h in alone], rtol=1e-4, atol=1e-5)


def test_search_checks_its_query_first_and_takes_options_by_keyword(made):
    from seqclip.search import Searcher

    root, _, _ = made
    result = run("search", root / "idx", "  ")
    assert result.exit_code == 2 and "the query is empty" in one_line(result)
    with pytest.raises(TypeError):
        Searcher(root / "idx").query("a person waves", 5)


@pytest.mark.parametrize("window", ["0", "-16"])
def test_predict_refuses_a_bad_window_before_any_work(made, tmp_path, window):
    root, data, _ = made
    (tmp_path / "c.txt").write_text("wave\nclap\n")
    result = run("predict", data, "--checkpoint", root / "model", "--classes", tmp_path / "c.txt", "--window", window)
    assert result.exit_code == 2 and "Traceback" not in result.output and "--window" in result.output


def test_predict_checks_unseen_and_gamma_against_the_candidates(made, tmp_path):
    root, data, _ = made
    (tmp_path / "c.txt").write_text("wave\nclap\n")
    base = ["predict", data, "--checkpoint", root / "model", "--classes", tmp_path / "c.txt"]
    bogus = run(*base, "--unseen", "clap,bogus", "--gamma", "0.3")
    assert bogus.exit_code == 2 and "--unseen: bogus not among the candidates" in one_line(bogus)
    alone = run(*base, "--gamma", "0.3")
    assert alone.exit_code == 2 and "name the unseen ones with --unseen" in one_line(alone)


def test_embed_and_predict_read_every_file_first_and_skip_bad_ones_on_request(made, tmp_path):
    root, data, _ = made
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "a.npz").write_bytes((data / "clips" / "c000.npz").read_bytes())
    (tmp_path / "f" / "b.npz").write_bytes(b"not a clip")
    (tmp_path / "c.txt").write_text("wave\nclap\n")
    refused = run("embed", tmp_path / "f", "--checkpoint", root / "model", "--out", tmp_path / "e")
    assert refused.exit_code == 2 and "1 of 2 clips cannot be read" in one_line(refused)
    assert "b.npz" in refused.output and not (tmp_path / "e").exists()
    skipped = run("embed", tmp_path / "f", "--checkpoint", root / "model", "--out", tmp_path / "e", "--skip-bad")
    assert skipped.exit_code == 0 and "--skip-bad: left out 1 of 2 clips" in skipped.output
    assert EmbeddingStore(tmp_path / "e").table("clips").column("id").to_pylist() == ["a"]
    predicted = run("predict", tmp_path / "f", "--checkpoint", root / "model", "--classes", tmp_path / "c.txt")
    assert predicted.exit_code == 2 and "1 of 2 clips cannot be read" in one_line(predicted)


def test_an_interrupted_embed_says_how_to_continue(made, tmp_path, monkeypatch):
    import seqclip.search.embed as embed_module

    root, data, _ = made

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(embed_module, "embed_sentences", interrupt)
    result = run("embed", data, "--checkpoint", root / "model", "--out", tmp_path / "e")
    assert result.exit_code == 130 and "run the same command again to continue" in result.output
    monkeypatch.undo()
    again = run("embed", data, "--checkpoint", root / "model", "--out", tmp_path / "e")
    assert again.exit_code == 0 and "resumed: 1 of 2 parts were written before" in again.output


def test_strip_names_keep_every_recording_apart():
    from seqclip.cli.predict import strip_names

    names = strip_names(["a/b", "a_b", "A_B", "../x", "s p"])
    assert [str(n) for n in names] == ["a/b.png", "a_b.png", "A_B-2.png", "x.png", "s_p.png"]


@given(frames=st.integers(16, 400), window=st.sampled_from([16, 32, 64]), stride=st.integers(1, 64))
def test_timeline_spans_tile_the_recording_each_inside_its_own_window(frames, window, stride):
    if stride > window:
        return
    labelled = [(s, min(s + window, frames), f"l{s % 3}", s / 400) for s in windows(frames, window, stride)]
    spans = timeline_spans(labelled)
    assert spans[0][0] == 0 and spans[-1][1] == frames
    assert all(a[1] == b[0] for a, b in zip(spans[:-1], spans[1:], strict=True))  # contiguous, disjoint
    own = {(w[2], w[3]): w for w in labelled}
    assert all(own[(lab, sc)][0] <= s < e <= own[(lab, sc)][1] for s, e, lab, sc in spans)


def test_help_speaks_of_each_command_alone():
    for command in ("embed", "index", "data convert"):
        text = " ".join(run(*command.split(), "--help").output.split())
        assert "--overwrite" in text and "for train" not in text and "fresh run" not in text
    assert "Start a fresh run" in " ".join(run("train", "--help").output.split())
    predict_help = " ".join(run("predict", "--help").output.split())
    convert_help = " ".join(run("data", "convert", "--help").output.split())
    assert (
        "half the window (at least 16 frames), so an activity cut" in predict_help
        and "no overlap, so no frame" in convert_help
    )


def test_predict_draws_a_strip_per_recording_named_by_its_id(made, tmp_path):
    root, data, _ = made
    (tmp_path / "c.txt").write_text("wave\nclap\njump\n")
    result = run(
        "predict",
        data,
        "--checkpoint",
        root / "model",
        "--classes",
        tmp_path / "c.txt",
        "--split",
        "test",
        "--window",
        "16",
        "--out",
        tmp_path / "t.json",
        "--strips",
        tmp_path / "strips",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "t.json").read_text())
    assert len(rows) == 8 * 3 and {r["end"] - r["start"] for r in rows} == {16}  # stride max(16, W/2): 0, 16, 32
    assert sorted(p.name for p in (tmp_path / "strips").glob("*.png")) == sorted({f"{r['id']}.png" for r in rows})
