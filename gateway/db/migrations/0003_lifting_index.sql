-- Highest NIOSH lifting index of the day, for lifts whose geometry the device reported (Waters et al. 1993).
ALTER TABLE exposure_days ADD COLUMN lifting_index_max real;
