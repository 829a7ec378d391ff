export const PACKAGE_NAME = "@tracehouse/testkit";
