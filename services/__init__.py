"""Vigie's pure domain: records, exposure maths, detection and alert rules.

Standard library and numpy only (an import-linter contract enforces it): everything here is a
function of its inputs, so the gateway, the robot nodes, the simulators and the benchmarks all run the
same code.
"""
