"""Seeded synthetic registers: realistic extracts of Lithuania's incident, conviction and
customs registers for any span of months and scale, so the whole product runs on a fresh
machine with no register at hand (SPEC 3.5).

    from synthetic import generate_registers
    summary = generate_registers(Path("var/landing"), start="2022-01", months=12, scale=1.0)
"""

from synthetic.generate import generate_registers
from synthetic.summary import BrokenFile, GenerationSummary

__all__ = ["BrokenFile", "GenerationSummary", "generate_registers"]
