export const PACKAGE_NAME = "@tracehouse/context";
