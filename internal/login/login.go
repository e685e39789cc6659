// Package login obtains a registry token for `protomod registry login`:
// through the OAuth2 device authorization flow the Buf Schema Registry
// offers, or from a terminal prompt without echo.
package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrDeviceFlowUnsupported means the registry does not offer the device
// flow (it answered 404 or 501); the caller falls back to a prompt.
var ErrDeviceFlowUnsupported = errors.New("the registry does not offer the OAuth2 device flow")

// DeviceFlow runs the OAuth2 device authorization flow against baseURL
// (e.g. https://buf.build): it registers a client, asks for a device code,
// shows the verification URL through show, and polls for the token.
func DeviceFlow(ctx context.Context, hc *http.Client, baseURL, clientName string, show func(verificationURL, userCode string)) (string, error) {
	var reg struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	body, _ := json.Marshal(map[string]string{"client_name": clientName})
	if err := post(ctx, hc, baseURL+"/oauth2/device/registration", "application/json", strings.NewReader(string(body)), &reg); err != nil {
		return "", err
	}
	var auth struct {
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURI         string `json:"verification_uri"`
		VerificationURIComplete string `json:"verification_uri_complete"`
		ExpiresIn               int    `json:"expires_in"`
		Interval                int    `json:"interval"`
	}
	form := url.Values{"client_id": {reg.ClientID}, "client_secret": {reg.ClientSecret}}
	if err := post(ctx, hc, baseURL+"/oauth2/device/authorization", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), &auth); err != nil {
		return "", err
	}
	link := auth.VerificationURIComplete
	if link == "" {
		link = auth.VerificationURI
	}
	show(link, auth.UserCode)
	interval := time.Duration(max(auth.Interval, 1)) * time.Second
	deadline := time.Now().Add(time.Duration(max(auth.ExpiresIn, 60)) * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(interval):
		}
		form := url.Values{
			"grant_type":    {"urn:ietf:params:oauth:grant-type:device_code"},
			"device_code":   {auth.DeviceCode},
			"client_id":     {reg.ClientID},
			"client_secret": {reg.ClientSecret},
		}
		var tok struct {
			AccessToken string `json:"access_token"`
			Error       string `json:"error"`
		}
		err := post(ctx, hc, baseURL+"/oauth2/device/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), &tok)
		var oe *oauthError
		switch {
		case err == nil && tok.AccessToken != "":
			return tok.AccessToken, nil
		case errors.As(err, &oe) && oe.Code == "authorization_pending":
		case errors.As(err, &oe) && oe.Code == "slow_down":
			interval += 5 * time.Second
		case err != nil:
			return "", err
		}
	}
	return "", errors.New("the device code expired before the login was approved; run the login again")
}

type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *oauthError) Error() string {
	if e.Description != "" {
		return e.Code + ": " + e.Description
	}
	return e.Code
}

func post(ctx context.Context, hc *http.Client, u, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusNotImplemented {
		return ErrDeviceFlowUnsupported
	}
	if res.StatusCode != http.StatusOK {
		var oe oauthError
		if json.Unmarshal(data, &oe) == nil && oe.Code != "" {
			return &oe
		}
		return fmt.Errorf("POST %s: %s", u, res.Status)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("POST %s: invalid JSON response: %w", u, err)
	}
	return nil
}
