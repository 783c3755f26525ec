"""Self-supervised pretraining on pictures without labels, for 03 to start from: the pretexts (:mod:`.pretexts`:
:mod:`.simclr`, :mod:`.clusters`) and the loop that trains one and writes the backbone (:mod:`.loop`). Importing the
package needs no torch; a pretraining does."""
