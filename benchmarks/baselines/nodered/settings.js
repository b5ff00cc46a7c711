// Node-RED runtime settings for Vigie's load-benchmark baseline: the flow a city IT team would build
// (MQTT in -> JSON -> one PostgreSQL INSERT per message). Headless: no editor, no admin API, no HTTP
// server at all; the flow file and the user directory are given on the command line by
// benchmarks/baselines/nodered.py. Everything this flow needs is installed next to this file by
// scripts/install-node-red.sh, so it runs offline.

module.exports = {
    // No editor, admin API or HTTP-in endpoints: Node-RED then runs in headless mode (no listening port).
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,

    // The broker password arrives through ${VIGIE_MQTT_PASSWORD} in the credentials file: nothing secret
    // is written to disk, so there is nothing to encrypt either.
    credentialSecret: false,

    // `pg` is resolved from this directory's node_modules (the pinned package-lock.json), not installed
    // by the runtime into the user directory at deploy time (functionExternalModules would call npm).
    functionExternalModules: false,
    functionGlobalContext: {
        pg: require("pg"),
    },
    externalModules: {
        autoInstall: false,
        palette: { allowInstall: false },
        modules: { allowInstall: false },
    },

    // No update check or telemetry call home (the benchmark machines may be offline).
    telemetry: { enabled: false },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },

    logging: {
        console: { level: "info", metrics: false, audit: false },
    },
    mqttReconnectTime: 1000,
    exportGlobalContextKeys: false,
};
