"""Sector knowledge: the NIS2 Annex I/II taxonomy, NACE Rev. 2 / SBI hints, the STIX
``industry-sector-ov`` vocabulary and their mapping (:mod:`.taxonomy`), enterprise size classes
per Recommendation 2003/361/EC (:mod:`.size`) and the NIS2 essential/important classification
with plain-language reasons (:mod:`.nis2`). Pure domain code: it stores no companies.
"""
