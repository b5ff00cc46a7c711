"""Exposure maths for the safety officers' ledger: additive per-day accumulators and the judgements read off them.

* ``noise`` — L_EX,8h, dose, peaks, hearing-protector attenuation, action/limit values (ISO 9612; Directive
  2003/10/EC; Code du travail R4431-1 to R4431-3).
* ``vibration`` — hand-arm A(8) and HSE points (ISO 5349-1), whole-body A(8) (ISO 2631-1); Directive
  2002/44/EC, R4443-1/R4443-2.
* ``heat`` — WBGT from air, humidity and globe temperatures (ISO 7243:2017; Stull 2011; Bureau of Meteorology),
  reference values, metabolic rates (ISO 8996:2021), the day's heat tally.
* ``heat_strain`` — core temperature from heart rate (Buller et al. 2013), physiological strain index
  (Moran et al. 1998).
* ``handling`` — lifts and tonnage (NF X35-109), Revised NIOSH Lifting Equation (Waters et al. 1993).
* ``night`` — local days and seconds between 00:00 and 05:00 (Code du travail D4163-2, L3122-2).
* ``annual`` — the D4163-2 annual statement (noise, extreme temperatures, night work).

Every per-day state is a frozen dataclass whose ``merge`` is commutative and associative, with the empty
instance as identity, so a ledger can fold frames in any order; the core-temperature filter is the one
sequential exception.
"""
