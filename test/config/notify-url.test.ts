import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { options } from "../../src/config/options.js";

function parse(args: string[]): string[] {
  const command = new Command("run").exitOverride().addOption(options.notifyUrl());
  command.configureOutput({ writeErr: () => undefined });
  command.parse(args, { from: "user" });
  return command.opts<{ notifyUrl: string[] }>().notifyUrl;
}

afterEach(() => {
  delete process.env.ROLECALL_NOTIFY_URLS;
});

describe("--notify-url and ROLECALL_NOTIFY_URLS", () => {
  it("is repeatable; the variable is a comma-separated list; none by default", () => {
    expect(parse([])).toEqual([]);
    expect(parse(["--notify-url", "https://a.example/x", "--notify-url", "http://b.example:8080/"])).toEqual([
      "https://a.example/x",
      "http://b.example:8080/",
    ]);
    process.env.ROLECALL_NOTIFY_URLS = "https://a.example/x, https://b.example/y,";
    expect(parse([])).toEqual(["https://a.example/x", "https://b.example/y"]);
  });

  it("refuses what is not http(s) without echoing the URL's secret parts", () => {
    expect(() => parse(["--notify-url", "ftp://user:pw@files.example/secret-token"])).toThrow(
      /must be http:\/\/ or https:\/\/, got ftp:\/\/files\.example\/…/,
    );
    expect(() => parse(["--notify-url", "not a url"])).toThrow(/got \(not a URL\)/);
  });
});
