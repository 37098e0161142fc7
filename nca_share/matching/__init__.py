"""Matching: who in the constituency is affected by a piece of intelligence, and why.

The in-memory constituency index (:mod:`.index`), the dimensions extracted from STIX content
and the matcher (:mod:`.engine`), stored matches and their explanations (:mod:`.store`,
:mod:`.explain`), automatic notices (:mod:`.notices`), product knowledge from NVD and KEV
(:mod:`.knowledge`), the background jobs (:mod:`.jobs`) and the recipient preview
(:mod:`.preview`).
"""
