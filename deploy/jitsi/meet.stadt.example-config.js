// /etc/jitsi/meet/meet.stadt.example-config.js: the parts Visits depends on. Keep the rest of
// the file the package wrote; change or add these keys.
var config = {
    hosts: {
        domain: 'meet.stadt.example',
        muc: 'conference.meet.stadt.example',
        // no anonymousdomain: there are no guests, everyone comes with a token
    },
    bosh: 'https://meet.stadt.example/http-bind',
    websocket: 'wss://meet.stadt.example/xmpp-websocket',

    // The citizen knocks at once when the lobby is on (they came for exactly this room).
    lobby: {
        autoKnock: true,
    },

    // No third parties: no Gravatar pictures (Visits puts no email in tokens anyway, see
    // JITSI_TOKEN_EMAIL), no requests to other hosts from the page.
    gravatar: {
        disabled: true,
    },
    disableThirdPartyRequests: true,

    // The name comes from the token; nobody types another one.
    readOnlyName: true,

    // Dial-in by phone (README "Dial-in by phone"): only with DIAL_IN_NUMBERS set in Visits.
    // jitsi-meet asks them with ?conference=<room>@<hosts.muc>.
    // dialInNumbersUrl: 'https://termine.stadt.example/jitsi/dial-in-numbers',
    // dialInConfCodeUrl: 'https://termine.stadt.example/jitsi/conference-mapper',
};
