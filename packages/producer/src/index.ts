export const PACKAGE_NAME = "@tracehouse/producer";
