# The Vigie gateway image (API + MQTT ingest). Services (Mosquitto, TimescaleDB) run in their own images.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services services
COPY gateway gateway
COPY dashboards dashboards
COPY simulations simulations
COPY robot_nodes robot_nodes
RUN pip install --no-cache-dir .
USER nobody
EXPOSE 8000
ENTRYPOINT ["vigie"]
CMD ["serve", "--http-host", "0.0.0.0", "--http-port", "8000"]
