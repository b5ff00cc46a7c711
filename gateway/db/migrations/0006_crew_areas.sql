-- A crew's work area, drawn on the supervisors' map: a GeoJSON Polygon (RFC 7946, WGS-84 lon/lat),
-- validated by the API; the check only keeps anything but a polygon out of the column.
ALTER TABLE crews
    ADD COLUMN area jsonb CHECK (area IS NULL OR (jsonb_typeof(area) = 'object' AND area ->> 'type' = 'Polygon'));
