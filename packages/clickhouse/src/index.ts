export const PACKAGE_NAME = "@tracehouse/clickhouse";
