"""``train(config)``: the whole run of ``03_train``, from data to test metrics, in one call.

The run goes through Hugging Face Accelerate, so the same call trains on a CPU, one GPU, or several
processes started by ``accelerate launch`` or the notebook launcher. Only the main process writes files.
The recipe (optimizer, augmentation, label smoothing, mixup/cutmix, weight averaging, drop-path, layer
decay) is built from timm's and torchvision's parts by the config's recipe parameters. A run is set up
once (:func:`.session.setup`), then its epochs run (:func:`.loop.run_epochs`) and it finishes
(:func:`.finish.finish`), each step taking the one :class:`~.session.Session`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..config.train import TrainConfig
from .distributed import forget_single_process_state, make_accelerator
from .finish import finish
from .loop import Callback, run_epochs
from .resume import check_same_run
from .run_dir import RunDir, TrainResult
from .session import setup
from .writer import BackgroundWriter

log = logging.getLogger("animesion")


def train(config: TrainConfig, callbacks: Sequence[Callback] = (), progress: bool = True) -> TrainResult:
    """Train ``config.model_name`` on ``config.dataset_name``, validating every epoch and testing at the end.

    Writes ``results_dir/<run_name>/``: params.yaml, history.csv, metrics.json, train.log, the best-accuracy
    (``best``), best-loss and last weights (the weight average with ``model_ema``), resumable states in
    ``checkpoints/`` while the run goes on, figures and tracker files. With ``resume=True`` it continues
    from the newest state there; a finished run is returned as it is.
    """
    run = RunDir(config)
    if config.resume and run.finished:
        check_same_run(run.params(), config, run.path)
        log.info("resume: '%s' already finished; nothing to train", run.path)
        return run.result()
    accelerator = make_accelerator(config, run)
    main = accelerator.is_main_process
    handler = run.file_logger() if main else logging.NullHandler()
    log.addHandler(handler)
    log.setLevel(logging.INFO if main else logging.WARNING)
    writer = BackgroundWriter()
    try:
        session = setup(config, run, accelerator, writer, show_progress=progress and main)
        run_epochs(session, callbacks if main else ())
        return finish(session)
    finally:
        writer.close()
        accelerator.end_training()
        log.removeHandler(handler)
        handler.close()
        forget_single_process_state()


__all__ = ["Callback", "train"]
