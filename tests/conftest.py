"""Helpers the test files share."""

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def only_run(tmp_path, name):
    """The one run directory under tmp_path/runs whose name contains `name`."""
    runs = list((tmp_path / "runs").glob(f"*{name}*"))
    assert len(runs) == 1, runs
    return runs[0]


def read_scalars(run_dir):
    """Every scalar tag of a run's tensorboard events: {tag: [values in step order]}."""
    acc = EventAccumulator(str(run_dir))
    acc.Reload()
    return {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
