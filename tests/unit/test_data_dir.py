"""Where the worker keeps its tables: faust's --datadir, else one folder per app id under DATA_DIR."""

from streams.settings import data_dir


def test_the_data_dir_is_datadir_option_then_f_datadir_then_one_per_app_id(tmp_path):
    root = str(tmp_path / "root")
    assert data_dir(root, {}, ["faust", "-A", "streams", "--datadir", "/x", "worker"]) == "/x"
    assert data_dir(root, {}, ["faust", "--datadir=/y", "worker"]) == "/y"
    assert data_dir(root, {"F_DATADIR": "/z"}, ["faust", "worker"]) == "/z"
    assert data_dir(root, {}, ["faust", "worker"]) == f"{root}/{{conf.name}}-data"
    assert (tmp_path / "root").is_dir()
