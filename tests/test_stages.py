from ssd.cache import Stage, file_hash, is_complete, stage_dir


def test_stage_dir_depends_on_config_and_inputs(tmp_path):
    a = stage_dir(tmp_path, "eval", {"t": 1.0}, {"model": "abc"})
    assert a == stage_dir(tmp_path, "eval", {"t": 1.0}, {"model": "abc"})
    assert a != stage_dir(tmp_path, "eval", {"t": 1.1}, {"model": "abc"})
    assert a != stage_dir(tmp_path, "eval", {"t": 1.0}, {"model": "abd"})


def test_stage_is_complete_only_after_finish(tmp_path):
    with Stage(tmp_path, "s", {"k": 1}, seeds=[3]) as st:
        assert not st.complete
        manifest = st.finish({"records": 5})
    assert is_complete(st.dir)
    assert manifest["seeds"] == [3] and manifest["records"] == 5
    assert {"git", "packages", "device", "wall_seconds", "config"} <= set(manifest)


def test_file_hash_covers_folder_contents(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_text("1")
    h1 = file_hash(tmp_path / "d")
    (tmp_path / "d" / "a").write_text("2")
    assert file_hash(tmp_path / "d") != h1


def test_stage_can_live_in_a_caller_chosen_folder(tmp_path):
    st = Stage(tmp_path, "s", {"k": 1}, directory=tmp_path / "here", started=0.0)
    st.dir.mkdir()
    manifest = st.finish()
    assert is_complete(tmp_path / "here") and manifest["wall_seconds"] > 1e9
