-- The daily physiology the weak signals read (services/signals, issue 9), kept per agent-day next to the heat
-- strain: computed by the housekeeper's refresh (gateway/db/ledger_store.refresh_heat_strain) for agent-days
-- marked psi_dirty, from that day's minutes. Reading them from here instead of the minute tier lets the signals
-- cover the ~190-day window their baselines need for a whole site in one small query.
ALTER TABLE exposure_days
    -- Lowest mean heart rate over 10 consecutive minutes with heart rate (frame_minutes.hr_sum_bpm / hr_n):
    -- the shift's calmest ten minutes (services/signals/physiology.py).
    ADD COLUMN hr_rest_bpm     real,
    -- Mean heart rate over the worked minutes (frame_minutes with worked_s > 0 and heart rate).
    ADD COLUMN hr_work_bpm     real,
    -- Mean drop of the minute heart rate 2 min after the last minute of each burst of lifts (frame_minutes.lifts;
    -- Cole et al. 1999 measure the drop after exercise); NULL without a burst followed by two measured minutes.
    ADD COLUMN hr_recovery_bpm real,
    -- Minutes with PSI ≥ 7, "high" strain (Moran et al. 1998), from the Buller et al. (2013) core temperature
    -- filter over hr_minutes (services/ledger.heat_strain_for_day).
    ADD COLUMN psi_high_min    real NOT NULL DEFAULT 0;
