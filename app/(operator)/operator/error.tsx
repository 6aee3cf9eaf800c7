"use client";
import ConsoleError from "../../(console)/error";

export default ConsoleError;
