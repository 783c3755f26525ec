"""Starting a run from a checkpoint: continue, or transfer to a dataset with other classes."""

from __future__ import annotations

import logging

from torch import nn

from ..config.train import TrainConfig
from ..errors import CheckpointError, NotImplementedYetError
from ..paths import resolve_path
from ..utils.state_dict import read_state_dict

log = logging.getLogger(__name__)


def load_initial_weights(model: nn.Module, config: TrainConfig) -> dict[str, list[str]]:
    """Load ``config.checkpoint_path`` into ``model``; report missing and unexpected keys in plain words.

    With ``transfer_learning`` the weights whose shapes differ (the classifier, when the class count
    changes) keep their fresh initialisation; without it any mismatch is an error.
    """
    if config.load_partial_mode:
        raise NotImplementedYetError("load_partial_mode is not implemented yet; leave it empty (None).")
    state = read_state_dict(resolve_path(config.checkpoint_path))
    own = model.state_dict()
    mismatched = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    if mismatched and not config.transfer_learning:
        raise CheckpointError(
            f"checkpoint_path does not fit {config.model_name}: {len(mismatched)} weights have other shapes "
            f"(e.g. {mismatched[0]}); set transfer_learning=True to reset them."
        )
    state = {k: v for k, v in state.items() if k not in mismatched}
    result = model.load_state_dict(state, strict=False)
    report = {"reset": mismatched, "missing": list(result.missing_keys), "unexpected": list(result.unexpected_keys)}
    if mismatched:
        log.info("transfer learning: %d weights keep their fresh initialisation (%s)", len(mismatched),
                 ", ".join(mismatched))
    if result.missing_keys:
        log.warning("%d weights of the model are not in the checkpoint and stay as initialised: %s",
                    len(result.missing_keys), ", ".join(result.missing_keys[:10]))
    if result.unexpected_keys:
        log.warning("%d weights in the checkpoint have no place in the model and are ignored: %s",
                    len(result.unexpected_keys), ", ".join(result.unexpected_keys[:10]))
    return report
