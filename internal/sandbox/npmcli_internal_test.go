package sandbox

import "testing"

func TestParseNPMLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		log  string
		want npmPublishResult
	}{
		{
			name: "OIDC publish",
			log: "npm verbose cli /usr/bin/node /usr/bin/npm\n" +
				"npm http fetch GET 200 http://127.0.0.1:1/_sandbox/actions/id-token?api-version=2.0&audience=npm%3A127.0.0.1 4ms\n" +
				"npm verbose oidc Successfully retrieved and set token\n" +
				"npm notice Publishing to http://127.0.0.1:2/ with tag canary and default access\n+ @acme/widget@1.0.1\n",
			want: npmPublishResult{exchange: "Successfully retrieved and set token"},
		},
		{
			name: "failed exchange, then no credential",
			log: "npm verbose oidc Failed token exchange request with body message: OIDC token exchange error - package not found\r\n" +
				"npm error code ENEEDAUTH\r\n" +
				"npm error need auth This command requires you to be logged in to http://127.0.0.1:2/\r\n" +
				"npm error need auth You need to authorize this machine using `npm adduser`\r\n" +
				"npm error A complete log of this run can be found in: /tmp/x/_logs/debug-0.log\r\n",
			want: npmPublishResult{
				code:     "ENEEDAUTH",
				message:  "need auth This command requires you to be logged in to http://127.0.0.1:2/ need auth You need to authorize this machine using `npm adduser`",
				exchange: "Failed token exchange request with body message: OIDC token exchange error - package not found",
			},
		},
		{
			name: "registry refusal",
			log: "npm error code E403\nnpm error 403 403 Forbidden - PUT http://127.0.0.1:2/@acme%2fwidget - You cannot publish over the previously published versions: 1.0.0.\n" +
				"npm error 403 In most cases, you or one of your dependencies are requesting\nnpm error 403 a package version that is forbidden by your security policy, or\n" +
				"npm error 403 on a server you do not have access to.\nnpm error 403 one line too many\n",
			want: npmPublishResult{
				code: "E403",
				message: "403 403 Forbidden - PUT http://127.0.0.1:2/@acme%2fwidget - You cannot publish over the previously published versions: 1.0.0. " +
					"403 In most cases, you or one of your dependencies are requesting 403 a package version that is forbidden by your security policy, or 403 on a server you do not have access to.",
			},
		},
		{name: "empty", log: "", want: npmPublishResult{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := parseNPMLog(tt.log); got != tt.want {
				t.Errorf("parseNPMLog:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	got := redact("token npm_abc and sandbox-id-request-1 in npm_abc", "npm_abc", "", "sandbox-id-request-1")
	if want := "token [redacted] and [redacted] in [redacted]"; got != want {
		t.Errorf("redact: %q, want %q", got, want)
	}
}

func TestVersionAtLeast(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"11.5.1": true, "11.5.0": false, "11.19.1": true, "12.0.0": true, "10.9.2": false,
		"11.6.0-pre.1": true, "11.4.9": false, "": false,
	} {
		if got := versionAtLeast(v, MinOIDCNPM); got != want {
			t.Errorf("versionAtLeast(%q) = %v, want %v", v, got, want)
		}
	}
}
