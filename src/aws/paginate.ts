/**
 * Every page of a listing, following its continuation token until there is none. `fetch` sends one request
 * (with the token, after the first); `next` reads the token of the following page, if any.
 */
export async function* pages<Page>(
  fetch: (token: string | undefined) => Promise<Page>,
  next: (page: Page) => string | undefined,
): AsyncGenerator<Page> {
  let token: string | undefined;
  do {
    const page = await fetch(token);
    yield page;
    token = next(page);
  } while (token !== undefined);
}

/** IAM listings: a Marker to continue with while IsTruncated. */
export const iamNext = (page: { IsTruncated?: boolean | undefined; Marker?: string | undefined }) =>
  page.IsTruncated === true ? page.Marker : undefined;

/** EC2 listings: a NextToken, absent or empty on the last page. */
export const ec2Next = (page: { NextToken?: string | undefined }) =>
  page.NextToken === "" ? undefined : page.NextToken;

/** The token as a request field, only when there is one (the SDK treats an explicit undefined as a value). */
export const withMarker = (marker: string | undefined) => (marker === undefined ? {} : { Marker: marker });
export const withNextToken = (token: string | undefined) => (token === undefined ? {} : { NextToken: token });
