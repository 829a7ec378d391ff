export const PACKAGE_NAME = "@tracehouse/worker";
