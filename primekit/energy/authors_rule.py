"""The synaptic counting rule of the authors' operation counter, applied to our counts of the same run.

The authors' inpainting code counts operations with forward hooks (``CountMulAddSNN`` in its utilities;
public repository ``bo-wang-up/PRIME``). For the synaptic products of a convolution or linear layer whose
input is spikes, it counts **additions only**: the *sum of the input values* times the layer's full fan-out
(kernel area x output channels / stride^2 for a convolution, output features for a linear layer), so pruned
weights count as much as kept ones, and an input of value ``v`` counts ``v`` additions. A first convolution
flagged as reading a real-valued image counts its dense multiply-accumulates instead (as many multiplications
as additions). This module applies that rule to our per-layer counts (:mod:`primekit.energy.counts`):

- a spiking layer's additions are ``kept_pulses + pruned_pulses``: the sum over inputs of ``|input|`` times
  the weights (kept or pruned) it reaches. For the non-negative inputs of PRIMENet this is the authors'
  rule with the exact fan-out of every input; their ``k^2 / stride^2`` is the mean fan-out away from the map's
  edges (it overestimates the inputs near the edges, which reach fewer outputs);
- a layer in ``dense_first`` counts its ``dense_macs`` as multiplications and as additions (the authors'
  formula, input elements x kernel area x output channels / stride^2, equals them when the output map is the
  input map over stride^2, as with the VAE's padded convolutions).

Only the synaptic products are compared here. The authors' counter also adds one addition per output
element (for the bias, whether the layer has one or not), one addition per LIF neuron and step and one
multiplication per neuron and step without an output spike; it counts nothing for pooling, normalisation or
the readout.
"""

from __future__ import annotations

from collections.abc import Sequence

from primekit.energy.count_records import CountTable
from primekit.tables import Table

#: Columns of :func:`authors_rule` per layer.
RULE_COLUMNS = ("ours: synaptic ops", "ours: of which MACs", "authors' rule: additions",
                "authors' rule: multiplications")


def authors_rule(table: CountTable, dense_first: Sequence[str] = ()) -> dict[str, dict[str, float]]:
    """Per layer of ``table``: our synaptic operations (and how many of them are multiply-accumulates, graded
    inputs) beside the additions and multiplications the authors' rule counts on the same counts.

    Args:
        table: counts by layer and kind (e.g. the mean per image over all T steps).
        dense_first: layers counted as a real-valued first convolution (dense multiply-accumulates).
    """
    unknown = [layer for layer in dense_first if layer not in table.layers]
    if unknown:
        raise ValueError(f"dense_first={list(dense_first)!r} names layers {unknown} not in the table's "
                         f"layers {list(table.layers)}")
    out = {}
    for layer in table.layers:
        if layer in dense_first:
            adds = mults = table[layer, "dense_macs"]
        else:
            adds, mults = table[layer, "kept_pulses"] + table[layer, "pruned_pulses"], 0.0
        out[layer] = dict(zip(RULE_COLUMNS, (table[layer, "synaptic_ops"], table[layer, "graded_ops"], adds,
                                             mults)))
    return out


def authors_rule_summary(rule: dict[str, dict[str, float]], layer: str | None = None) -> dict[str, float]:
    """Totals over layers: our synaptic operations and MACs, the rule's additions and multiplications, the
    rule's operations (additions + multiplications) over ours (``rule_over_ours``) and, if ``layer`` is
    given, the share of the rule's operations in that layer (``rule_share``)."""
    if not rule:
        raise ValueError("rule is empty; give authors_rule()'s per-layer counts")
    if layer is not None and layer not in rule:
        raise ValueError(f"layer={layer!r} is not one of the rule's layers {list(rule)}")
    ours, macs, adds, mults = (sum(row[c] for row in rule.values()) for c in RULE_COLUMNS)
    if ours <= 0 or adds + mults <= 0:
        raise ValueError(f"the layers have {ours!r} synaptic operations and the rule counts {adds + mults!r}; "
                         "need > 0 to compare")
    out = {"our_ops": ours, "our_macs": macs, "rule_adds": adds, "rule_mults": mults,
           "rule_over_ours": (adds + mults) / ours}
    if layer is not None:
        out["rule_share"] = (rule[layer][RULE_COLUMNS[2]] + rule[layer][RULE_COLUMNS[3]]) / (adds + mults)
    return out


def authors_rule_table(rule: dict[str, dict[str, float]]) -> Table:
    """:func:`authors_rule` as a table: one row per layer and a total."""
    if not rule:
        raise ValueError("rule is empty; give authors_rule()'s per-layer counts")
    totals = {c: sum(row[c] for row in rule.values()) for c in RULE_COLUMNS}
    rows = [[f"`{layer}`"] + [f"{row[c]:,.0f}" for c in RULE_COLUMNS] for layer, row in rule.items()]
    total = ["total"] + [f"{totals[c]:,.0f}" for c in RULE_COLUMNS]
    return Table.of(("layer",) + RULE_COLUMNS, rows + [total])
